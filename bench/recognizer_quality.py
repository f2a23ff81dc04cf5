"""A custom recognizer trained for real through the server on a larger set: its F1 and training time.

    .venv/bin/python bench/recognizer_quality.py [--train 7338] [--test 2000] [--epochs 30]

Trains through `opencomprehend serve` exactly as a user would (CreateEntityRecognizer with a
documents file and an annotations CSV in the local bucket, TestS3Uri for the test set) on btc-en from
../shared/data/ner-train (tweets, CC BY 4.0: PER, ORG, LOC as PERSON_NAME, ORG_NAME, PLACE_NAME), and
prints the recognizer's metrics, its training time, and the ratio of its F1 to the better of two trivial
baselines measured on the same test set in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ner-train" / "btc-en"
sys.path.insert(0, str(ROOT / "tests"))

from support import training_sets  # noqa: E402
from support.components import free_port  # noqa: E402
from support.server import ROLE, Server  # noqa: E402

TYPES = {"PER": "PERSON_NAME", "ORG": "ORG_NAME", "LOC": "PLACE_NAME"}


def load(name: str, limit: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    corpus = []
    with open(DATA / name, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text = record["text"]
            if "\n" in text or "\r" in text or not text.strip():
                continue
            spans = [(e["begin"], e["end"], TYPES[e["type"]]) for e in record["entities"] if e["type"] in TYPES]
            corpus.append((text, spans))
    return corpus[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=7338)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    train, test = load("train.jsonl", args.train), load("dev.jsonl", args.test)
    print(f"btc-en: {len(train)} training and {len(test)} test documents")

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            data_dir=Path(tmp),
            port=free_port(),
            extra_env={"OPENCOMPREHEND_TRAINING_MAX_EPOCHS": str(args.epochs), "OPENCOMPREHEND_WORKERS": "1"},
        )
        server.put("bench", "train/docs/tweets.txt", training_sets.documents_file(train))
        server.put("bench", "train/annotations.csv", training_sets.annotations_csv(train, "tweets.txt"))
        server.put("bench", "test/docs/tweets.txt", training_sets.documents_file(test))
        server.put("bench", "test/annotations.csv", training_sets.annotations_csv(test, "tweets.txt"))
        server.start()
        try:
            client = server.client()
            started = time.perf_counter()
            arn = client.create_entity_recognizer(
                RecognizerName="btc-en",
                LanguageCode="en",
                DataAccessRoleArn=ROLE,
                InputDataConfig={
                    "EntityTypes": [{"Type": t} for t in TYPES.values()],
                    "Documents": {"S3Uri": "s3://bench/train/docs/", "TestS3Uri": "s3://bench/test/docs/"},
                    "Annotations": {
                        "S3Uri": "s3://bench/train/annotations.csv",
                        "TestS3Uri": "s3://bench/test/annotations.csv",
                    },
                },
            )["EntityRecognizerArn"]
            while True:
                props = client.describe_entity_recognizer(EntityRecognizerArn=arn)["EntityRecognizerProperties"]
                if props["Status"] not in ("SUBMITTED", "TRAINING"):
                    break
                time.sleep(1)
            wall = time.perf_counter() - started
        finally:
            server.stop()

    if props["Status"] not in ("TRAINED", "TRAINED_WITH_WARNING"):
        raise SystemExit(f"training ended {props['Status']}: {props.get('Message')}")
    metadata = props["RecognizerMetadata"]
    overall = metadata["EvaluationMetrics"]
    baseline = training_sets.trivial_baseline_f1(train, test)
    print(f"status {props['Status']}; {props.get('Message') or ''}")
    trained = (props["TrainingEndTime"] - props["TrainingStartTime"]).total_seconds()  # boto3 gives datetimes
    print(f"training time: {trained:.0f} s (create -> TRAINED {wall:.0f} s)")
    print(
        f"overall on the test set: P {overall['Precision']:.1f} R {overall['Recall']:.1f} F1 {overall['F1Score']:.1f} "
        f"({metadata['NumberOfTrainedDocuments']} trained, {metadata['NumberOfTestDocuments']} test documents)"
    )
    for kind in metadata["EntityTypes"]:
        m = kind["EvaluationMetrics"]
        print(
            f"  {kind['Type']:<12} P {m['Precision']:5.1f} R {m['Recall']:5.1f} F1 {m['F1Score']:5.1f} "
            f"({kind['NumberOfTrainMentions']} training mentions)"
        )
    print(f"trivial baseline F1 (capitalised runs / exact lookup of training mentions): {baseline:.1f}")
    print(f"ratio recognizer / baseline F1: {overall['F1Score'] / max(baseline, 1e-9):.2f}")


if __name__ == "__main__":
    main()
