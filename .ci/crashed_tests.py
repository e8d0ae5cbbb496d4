"""Reads a pytest JUnit XML report and prints the node ids of the tests whose pytest-xdist worker
crashed while running them, one per line. Exits with status 1, printing nothing, when any test
failed or errored otherwise, or when none crashed (the run failed for another reason).

    python .ci/crashed_tests.py REPORT.xml
"""

import re
import sys
import xml.etree.ElementTree as ElementTree

CRASH = re.compile(r"worker '[^']+' crashed while running '(.+)'")


def main(report):
    crashed, other = [], 0
    for case in ElementTree.parse(report).iter("testcase"):
        for outcome in case:
            if outcome.tag in ("failure", "error"):
                match = CRASH.search(outcome.get("message") or "")
                if match:
                    crashed.append(match.group(1))
                else:
                    other += 1
    if other or not crashed:
        return 1
    print("\n".join(dict.fromkeys(crashed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
