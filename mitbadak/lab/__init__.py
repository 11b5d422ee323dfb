"""Opening the box: tools to look inside networks and the algorithms that train them.

    from mitbadak import lab

One concept per module:
  gradcheck               gradient_check: backprop vs central differences, for any layer
  optimizer_paths         optimizer_path, plot_optimizer_paths: SGD, Momentum, AdaGrad, Adam
                          walking down x²/20 + y²
  activations_experiment  activation_distributions, plot_activation_histograms: what
                          std 1 / std 0.01 / Xavier / He do to a deep stack's activations
  insight                 LayerStats: a callback recording per-layer weight, activation and
                          gradient statistics while fit runs (vanishing gradients, dead ReLUs)
  evaluation              confusion_matrix, classification_report
  plots                   plot_history, plot_confusion_matrix, plot_misclassified, plot_filters
  tuner_plots             plot_tuner_objective, plot_tuner_parallel_coordinates,
                          plot_tuner_learning_curves: a keras_tuner search at a glance
  time_gradients          time_step_gradients, plot_time_step_gradients: ‖dL/dh_t‖ per time
                          step of a recurrent layer (vanishing gradients, why LSTM exists)

The data functions need only NumPy; every ``plot_*`` needs matplotlib
(``pip install "mitbadak[plot]"``), imported when first called.
"""
from .activations_experiment import (ActivationDistributions, activation_distributions,
                                     plot_activation_histograms)
from .evaluation import classification_report, confusion_matrix
from .gradcheck import GradientCheckResult, gradient_check
from .insight import LayerStats
from .optimizer_paths import (bowl, bowl_gradient, notes_optimizers, optimizer_path,
                              plot_optimizer_paths)
from .plots import (best_epoch, plot_confusion_matrix, plot_filters, plot_history,
                    plot_misclassified)
from .tuner_plots import (plot_tuner_learning_curves, plot_tuner_objective,
                          plot_tuner_parallel_coordinates)
from .time_gradients import TimeStepGradients, plot_time_step_gradients, time_step_gradients

__all__ = [
    "gradient_check", "GradientCheckResult",
    "optimizer_path", "plot_optimizer_paths", "notes_optimizers", "bowl", "bowl_gradient",
    "activation_distributions", "plot_activation_histograms", "ActivationDistributions",
    "LayerStats",
    "confusion_matrix", "classification_report",
    "plot_history", "best_epoch", "plot_confusion_matrix", "plot_misclassified", "plot_filters",
    "plot_tuner_objective", "plot_tuner_parallel_coordinates", "plot_tuner_learning_curves",
    "time_step_gradients", "plot_time_step_gradients", "TimeStepGradients",
]
