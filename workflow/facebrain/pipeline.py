"""Glue between a Snakemake ``script:`` job and one library call.

Every script in ``workflow/scripts/`` is one call of :func:`run_step`::

    from facebrain.pipeline import run_step
    from facebrain.datasets.prepare import prepare_dsprites
    run_step(snakemake, prepare_dsprites, npz=snakemake.input[0], out=snakemake.output[0])

It sends logging and stderr (tqdm progress bars) to the job's log file, caps
the BLAS/torch threads at the job's ``threads``, and passes a provenance
record to the library function when it takes a ``provenance`` argument.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from facebrain.provenance import make_provenance

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_path: str | None) -> None:
    """Send the root logger's INFO records to ``log_path`` (or stderr when None)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler: logging.Handler = logging.FileHandler(log_path, mode="a") if log_path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    logging.getLogger("PIL").setLevel(logging.WARNING)


def set_threads(threads: int) -> None:
    """Cap torch and BLAS thread pools at ``threads``."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass
    # torch reads OMP_NUM_THREADS when it is first imported; only a torch that
    # is already loaded needs telling (jobs that never use torch skip its import).
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(max(1, threads))


def run_step(snakemake, func: Callable[..., Any], **kwargs: Any) -> Any:
    """Run ``func(**kwargs)`` as the body of a Snakemake script job.

    ``snakemake`` is the object Snakemake injects into scripts. Logging and
    stderr go to ``snakemake.log[0]`` when the rule has a log. If ``func``
    accepts ``provenance``, a record built from the rule name, its params and
    its input files is passed.
    """
    log_path = snakemake.log[0] if len(snakemake.log) else None
    configure_logging(log_path)
    set_threads(int(getattr(snakemake, "threads", 1) or 1))
    if "provenance" in inspect.signature(func).parameters and "provenance" not in kwargs:
        params = {k: v for k, v in snakemake.params.items()}
        kwargs["provenance"] = make_provenance(snakemake.rule, params, list(snakemake.input))
    logger = logging.getLogger(func.__module__)
    logger.info("rule %s: %s.%s", snakemake.rule, func.__module__, func.__name__)
    stream = open(log_path, "a") if log_path else contextlib.nullcontext(sys.stderr)
    with stream as err, contextlib.redirect_stderr(err):
        try:
            return func(**kwargs)
        except Exception:
            logger.exception("rule %s failed", snakemake.rule)
            raise
