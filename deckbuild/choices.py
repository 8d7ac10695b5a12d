"""Multiple-choice cards: a task list of options, before or after the --- break; a ticked box
never reaches a card's front."""

from __future__ import annotations

from markdown_it.token import Token

from .errors import Diagnostics, SourceLocation
from .options import is_comment
from .records import OptionSource, SourceFile, first_line

MAX_OPTIONS = 8
MIN_OPTIONS = 2


def split_multiple_choice(
    answer: list[Token], location: SourceLocation, diagnostics: Diagnostics
) -> tuple[tuple[OptionSource, ...], list[Token]]:
    """A task list at the start of the answer makes a multiple-choice card: (options, explanation)."""
    if not answer or answer[0].type != "bullet_list_open" or answer[0].attrGet("class") != "contains-task-list":
        return (), answer
    end = _list_end(answer)
    items: list[tuple[Token, list[Token]]] = []
    options_location = SourceLocation(location.path, first_line(answer[0]))
    current: list[Token] | None = None
    for token in answer[1:end]:
        if token.type == "list_item_open" and token.level == answer[0].level + 1:
            current = []
            items.append((token, current))
        elif token.type == "list_item_close" and token.level == answer[0].level + 1:
            current = None
        elif current is not None:
            current.append(token)
    ticked = [body for _, body in items if any(_is_ticked(token) for token in body[:2])]
    if not ticked:
        # a checklist with nothing ticked (a release checklist, a to-do list) is a list, not options
        diagnostics.warning(
            options_location,
            "a task list with no ticked box is shown as a list: tick the right options (- [x]) to make "
            "the card a multiple-choice card",
            kind="unticked-list",
        )
        return (), answer
    options = []
    for item_open, body in items:
        if item_open.attrGet("class") != "task-list-item":
            diagnostics.error(
                SourceLocation(location.path, first_line(item_open)),
                "every option of a multiple-choice card needs a box: - [ ] wrong or - [x] right",
            )
            continue
        inline = next(t for t in body if t.type == "inline")
        children = inline.children or []
        correct = bool(children) and 'checked="checked"' in children[0].content
        inline.children = children[1:]
        if inline.children and inline.children[0].type == "text":
            inline.children[0].content = inline.children[0].content.lstrip()
        options.append(OptionSource(tokens=tuple(body), correct=correct))
    if not MIN_OPTIONS <= len(items) <= MAX_OPTIONS:
        diagnostics.error(
            options_location,
            f"a multiple-choice card has {MIN_OPTIONS} to {MAX_OPTIONS} options; this one has {len(items)}",
        )
    return tuple(options), answer[end + 1:]


def _list_end(tokens: list[Token]) -> int:
    """The index of the token that closes the list opened by `tokens[0]`."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def trailing_task_list(tokens: list[Token]) -> int | None:
    """Where a task list that ends `tokens` (a card's front) starts, if one does."""
    end = len(tokens)
    while end and is_comment(tokens[end - 1]):
        end -= 1
    if not end or tokens[end - 1].type != "bullet_list_close" or tokens[end - 1].level != 0:
        return None
    start = max(i for i in range(end) if tokens[i].type == "bullet_list_open" and tokens[i].level == 0)
    return start if tokens[start].attrGet("class") == "contains-task-list" else None


def _is_ticked(token: Token) -> bool:
    first = token.children[0] if token.type == "inline" and token.children else None
    return (
        first is not None and first.type == "html_inline" and "task-list-item-checkbox" in first.content
        and 'checked="checked"' in first.content
    )


def forbid_ticked_boxes(front: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """A ticked box on a card's front shows the answer before the learner has given it."""
    for token in front:
        if token.map is not None and _is_ticked(token):
            diagnostics.error(
                SourceLocation(source.path, first_line(token)),
                "a ticked box here is shown on the card's front and gives the answer away: make the task "
                "list the card's options (right before the --- break, or right after the heading) or move "
                "it after the break",
            )
