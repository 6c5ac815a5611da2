"""mnistlab's models as scikit-learn estimators: ``fit``/``predict``/``score`` over the same engine.

    from sklearn.model_selection import GridSearchCV
    from mnistlab.sklearn import MnistlabClassifier

    search = GridSearchCV(MnistlabClassifier(epochs=2), {"lr": [1e-3, 3e-3]}, cv=3)
    search.fit(images, labels)          # uint8 (n, 28, 28), or flattened (n, 784)
    search.best_estimator_.score(test_images, test_labels)

Inside this package ``import sklearn`` still means scikit-learn (imports are absolute); the
package is not imported by ``import mnistlab``.
"""

from ._classifier import CONFIG_PARAMS, NOT_PARAMS, MnistlabClassifier
from ._engines import clear as clear_engine_cache

__all__ = ["CONFIG_PARAMS", "NOT_PARAMS", "MnistlabClassifier", "clear_engine_cache"]
