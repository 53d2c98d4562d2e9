"""Run `nnscratch` in a child process on the tests' tiny Fashion-MNIST look-alike (used by
test_run_folder.py for real processes and real signals).

    python cli_with_tiny_data.py DATA_DIR [--sigint-at data|train|evaluate|report] [--hold-lock FOLDER] -- ARGS...

--sigint-at data|train|evaluate|report sends this process a real SIGINT when the run reaches that stage;
--hold-lock FOLDER only holds FOLDER's write lock, prints "locked" and sleeps (a second writer).
"""

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from data_helpers import with_files  # noqa: E402
from test_cli import tiny_fashion  # noqa: E402

from nnscratch import data, runs  # noqa: E402
from nnscratch.cli import main  # noqa: E402
from nnscratch.data import registry  # noqa: E402


def interrupt_before(module, name):
    real, sent = getattr(module, name), []

    def interrupted(*args, **kwargs):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the signal arrives before this ends
        return real(*args, **kwargs)

    setattr(module, name, interrupted)


if __name__ == "__main__":
    own, _, argv = " ".join(sys.argv[1:]).partition(" -- ")
    own = own.split()
    if "--hold-lock" in own:
        with runs.locked(own[own.index("--hold-lock") + 1]):
            print("locked", flush=True)
            time.sleep(120)
    folder = Path(own[0]) / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    data.DATASETS["fashion-mnist"] = with_files(registry.DATASETS["fashion-mnist"], tiny_fashion(folder))
    os.environ["NNSCRATCH_DATA"] = own[0]
    if "--sigint-at" in own:
        import nnscratch.report
        import nnscratch.runs.run
        import nnscratch.train.loop

        stage = own[own.index("--sigint-at") + 1]
        interrupt_before(*{"data": (nnscratch.runs.run, "prepare_data"),
                           "train": (nnscratch.train.loop._Fit, "after_step"),
                           "evaluate": (nnscratch.runs.run, "evaluate"),
                           "report": (nnscratch.report, "write_report")}[stage])
    sys.exit(main(argv.split()))
