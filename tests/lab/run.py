#!/usr/bin/env python3
"""Runs the pure Python tests of the lab and the benchmark (tests/lab/test_*.py:
topology.json against every file derived from it, and bench/rgbench's
scoring) and prints TAP lines, which tests/run-all.sh counts."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Tap(unittest.TextTestResult):
    n = 0

    def _line(self, ok, test, detail=None):
        Tap.n += 1
        print(f"{'ok' if ok else 'not ok'} {Tap.n} - {test.id()}", flush=True)
        for line in (detail or "").splitlines()[-25:]:
            print(f"#   {line}", flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._line(False, test, self._exc_info_to_string(err, test))


def main():
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    with open(os.devnull, "w") as quiet:
        result = unittest.TextTestRunner(stream=quiet, resultclass=Tap).run(suite)
    print(f"1..{Tap.n}")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
