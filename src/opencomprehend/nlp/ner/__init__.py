"""Entity recognition at run time: the engines behind DetectEntities and entities jobs, and what they share.

`spacy_engine` (the shipped models and custom recognizers: "spacy.v1", "spacy.t2s.v1", "custom.v1") and
`transformers_engine` (an operator's Hugging Face token-classification model: "transformers.v1"), registered
by name in nlp.registry; `tokenizers` (the character tokenizers of the zh, ja and ko models, with word
features), `pipelines` (which spaCy components find entities), `labels` (any label set onto Comprehend's
types), `patterns` (DATE and QUANTITY by pattern), `context` (one name, one type across a document),
`windows` (long texts in overlapping windows), `chinese` (Traditional to Simplified, one character for one)
and `calibration` (scores that mean what they say).
"""
