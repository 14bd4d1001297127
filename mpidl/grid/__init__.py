"""H2O's grid search: ``space`` (the job file's hyper-parameters, search criteria and grid
points), ``table`` (the grid's files, its ranking and grid.csv), ``search`` (the ``grid``
command: groups of ranks training points from ``group_queue``)."""
