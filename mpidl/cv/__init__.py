"""N-fold cross-validation (spec 10.1): fold assignment (``folds``), the fold models' holdout
predictions and their metrics (``holdouts``), the kept files (``files``) and the run of the
fold models and the main model (``run``)."""
