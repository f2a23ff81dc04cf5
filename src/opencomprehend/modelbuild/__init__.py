"""The model factory: how the language models shipped in `opencomprehend/models/` are trained from the
openly licensed sets in `../shared/data` (`language_models`, recipes in `training/<lang>.toml`; English
continued from en_core_web_sm with `rehearsal`), calibrated and measured.

A development tool, reached only through `opencomprehend train-language` and `calibrate-language` and the
benchmarks: nothing on the service's runtime path (api, service, jobs, runtime, nlp) imports it, so the
running service never looks for `../shared`.
"""
