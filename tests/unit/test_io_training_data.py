"""Training data parsers: what a user's CSVs and manifests become, and how bad rows are reported."""

from __future__ import annotations

import json

import pytest

from opencomprehend.io.training_data import (
    AnnotatedDocument,
    TrainingDataProblem,
    apply_annotations,
    label_with_entity_list,
    read_augmented_manifest,
    read_entity_list,
)

TYPES = ["PERSON", "ORG"]


def corpus() -> list[AnnotatedDocument]:
    return [
        AnnotatedDocument("a.txt", 0, "Diego Ramirez works at Acme Corp."),
        AnnotatedDocument("a.txt", 1, "Acme Corporation hired Diego."),
    ]


def test_annotations_attach_to_their_line_and_accept_header_spacing() -> None:
    docs = corpus()
    csv = b"File, Line, Begin Offset, End Offset, Type\na.txt,0,0,13,PERSON\na.txt,1,0,16,ORG\n"
    apply_annotations(docs, csv, "s3://b/ann.csv", True, TYPES)
    assert docs[0].entities == [(0, 13, "PERSON")]
    assert docs[1].entities == [(0, 16, "ORG")]


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (b"File,Line,Begin Offset,Type\na.txt,0,0,PERSON\n", "s3://b/ann.csv has no 'End Offset' column"),
        (
            b"File,Line,Begin Offset,End Offset,Type\na.txt,0,0,99,PERSON\n",
            "row 2: offsets 0-99 are outside a.txt line 0",
        ),
        (b"File,Line,Begin Offset,End Offset,Type\na.txt,0,0,5,DEVICE\n", "row 2: type 'DEVICE' is not one of"),
        (b"File,Line,Begin Offset,End Offset,Type\nb.txt,0,0,5,ORG\n", "row 2: no training document b.txt line 0"),
        (b"File,Line,Begin Offset,End Offset,Type\na.txt,zero,0,5,ORG\n", "row 2: expected"),
        (b"", "is empty"),
    ],
)
def test_bad_annotation_rows_say_what_and_where(csv: bytes, message: str) -> None:
    with pytest.raises(TrainingDataProblem, match=message):
        apply_annotations(corpus(), csv, "s3://b/ann.csv", True, TYPES)


def test_file_mode_annotations_have_no_line_column() -> None:
    docs = [AnnotatedDocument("doc.txt", None, "Acme Corp. hired Diego Ramirez.")]
    apply_annotations(docs, b"File,Begin Offset,End Offset,Type\ndoc.txt,17,30,PERSON\n", "s3://b/a.csv", False, TYPES)
    assert docs[0].entities == [(17, 30, "PERSON")]


def test_entity_list_matches_whole_words_case_sensitively_longest_first() -> None:
    docs = corpus() + [AnnotatedDocument("a.txt", 2, "acme corp and Diegos are not matches.")]
    entries = read_entity_list(b"Text,Type\nAcme Corp,ORG\nAcme Corporation,ORG\nDiego,PERSON\n", "s3://b/l.csv", TYPES)
    label_with_entity_list(docs, entries)
    assert docs[0].entities == [(0, 5, "PERSON"), (23, 32, "ORG")]
    assert docs[1].entities == [(0, 16, "ORG"), (23, 28, "PERSON")]
    assert docs[2].entities == []


def test_entity_list_with_an_unknown_type_is_refused() -> None:
    with pytest.raises(TrainingDataProblem, match="row 2: type 'CITY'"):
        read_entity_list(b"Text,Type\nParis,CITY\n", "s3://b/l.csv", TYPES)


def test_augmented_manifest_reads_the_named_attributes() -> None:
    line = {
        "source": "Diego Ramirez works at Acme Corp.",
        "labels": {"annotations": {"entities": [{"startOffset": 0, "endOffset": 13, "label": "PERSON"}]}},
        "labels-metadata": {"type": "groundtruth/text-span"},
    }
    docs = read_augmented_manifest((json.dumps(line) + "\n").encode(), "s3://b/train.manifest", ["labels"], TYPES)
    assert [(d.text, d.entities) for d in docs] == [(line["source"], [(0, 13, "PERSON")])]
    with pytest.raises(TrainingDataProblem, match="line 1 has no 'other' attribute"):
        read_augmented_manifest(json.dumps(line).encode(), "s3://b/train.manifest", ["other"], TYPES)
