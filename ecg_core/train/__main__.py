"""``python -m ecg_core.train``: the training lab's command line (:mod:`ecg_core.train.cli`)."""

from .cli import main

raise SystemExit(main())
