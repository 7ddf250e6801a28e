"""What the libraries may print: their logs at ERROR and their progress bars off.

Warnings are not silenced: a library's warning still reaches the user.
"""

from __future__ import annotations

import logging
import os

NOISY_LOGGERS = ("mteb", "sentence_transformers", "transformers", "datasets", "httpx",
                 "huggingface_hub")


def quiet_libraries(verbose: bool = False) -> None:
    """Keep library logs and progress bars off the user's terminal (errors still show);
    ``verbose`` keeps the harness's own INFO lines."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)
    import datasets
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # importing transformers reset its logger's level
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
