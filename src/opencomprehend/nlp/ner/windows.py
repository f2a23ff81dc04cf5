"""Long texts in overlapping windows: where to cut (plan_windows) and how the windows' entities join into one
list with offsets in the whole text (merge_windows); the spaCy and transformers engines share both."""

from __future__ import annotations


def plan_windows(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Split [0, len(text)) into windows of at most `size` characters overlapping by about `overlap`.

    Window ends are moved back to just before whitespace, and starts forward to just after it, when
    that is possible within half the overlap, so windows rarely cut a token. Consecutive windows
    always overlap; the overlap is what lets every entity be seen whole by some window.
    """
    n = len(text)
    if n <= size:
        return [(0, n)]
    overlap = max(1, min(overlap, size // 4))
    windows: list[tuple[int, int]] = []
    start = 0
    while n - start > size:
        hard_end = start + size
        end = hard_end
        for j in range(hard_end, hard_end - overlap // 2, -1):
            if text[j].isspace():
                end = j
                break
        windows.append((start, end))
        next_start = end - overlap
        for j in range(next_start, next_start + overlap // 2):
            if text[j - 1].isspace() and not text[j].isspace():
                next_start = j
                break
        start = next_start
    windows.append((start, n))
    return windows


def merge_windows(text: str, windows: list[tuple[int, int]], per_window: list[list[dict]]) -> list[dict]:
    """Combine the entities found in overlapping windows so that each appears once, uncut.

    Each window owns the part of the text from the middle of its left overlap to the middle of its
    right overlap; an entity is taken from the window that owns its first character. An entity that
    reaches a window's inner edge may be cut there, so it is never taken from that window; if the
    owning window cut an entity, ownership passes to the next window from that entity's start, and the
    next window (which sees it whole) supplies it.
    """
    last = len(windows) - 1
    merged: list[dict] = []
    lo = 0
    for i, ((start, end), entities) in enumerate(zip(windows, per_window, strict=True)):
        hi = len(text) if i == last else (windows[i + 1][0] + end) // 2

        def touches_left(ent: dict, start: int = start, i: int = i) -> bool:
            return i > 0 and not text[start : ent["BeginOffset"]].strip()

        def touches_right(ent: dict, end: int = end, i: int = i) -> bool:
            return i < last and not text[ent["EndOffset"] : end].strip()

        for ent in entities:
            if lo <= ent["BeginOffset"] < hi and touches_right(ent):
                hi = ent["BeginOffset"]
                break
        for ent in entities:
            if not lo <= ent["BeginOffset"] < hi or touches_left(ent) or touches_right(ent):
                continue
            # Two windows may parse the text around an ownership boundary differently; the earlier
            # window's entity already covers this text, so keep one.
            if merged and merged[-1]["EndOffset"] > ent["BeginOffset"]:
                continue
            merged.append(ent)
        lo = hi
    return merged
