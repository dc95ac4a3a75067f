"""Classify the failures of the official SDK's ``tests/api_resources`` run against the fake (a junit XML file), and
exit 1 if any failure is caused by a model name. Usage: python ci/sdk_failures.py RESULTS.xml"""

from __future__ import annotations

import collections
import sys
import xml.etree.ElementTree as ET

#: (label, substrings of the failure message), first match wins
CLASSES = (
    ("model name refused", ("model_not_found", "does not exist or you do not have access", "DeploymentNotFound")),
    ("route the fake does not serve", ("Invalid URL", "Invalid method for URL")),
    ("placeholder id of an object that does not exist", ("not found", "No such", "found with id", "invalid training")),
    ("placeholder value the real API refuses too", ("BadRequestError",)),
    ("strict schema check of a reply the SDK decodes later (base64 embeddings)", ("APIResponseValidationError",)),
)


def classify(message: str) -> str:
    for label, needles in CLASSES:
        if any(needle in message for needle in needles):
            return label
    return "other"


def main(path: str) -> int:
    counts: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    total = 0
    for case in ET.parse(path).iter("testcase"):
        total += 1
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        if failure is None:
            continue
        message = failure.get("message") or ""
        label = classify(message)
        counts[label] += 1
        examples.setdefault(label, f"{case.get('classname')}::{case.get('name')}: {message[:160]}")
    print(f"tests/api_resources: {total} tests, {sum(counts.values())} failed")
    for label, count in counts.most_common():
        print(f"  {count:5d}  {label}\n         e.g. {examples[label]}")
    if counts["model name refused"]:
        print("FAIL: some failures are caused by a model name", file=sys.stderr)
        return 1
    print("no failure is caused by a model name")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
