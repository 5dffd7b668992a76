"""The rendering layer: the only part of mivid that draws (and the only one that imports rich).

    output   `Output`: the two streams, colour, and `Output.form` / `Output.records`,
             the one place that decides a result's form (table, lines, JSON, ids)
    views    one `RecordView` per kind of result; the tables and panels
    live     live status lines, the batch table, download bars, `list --watch`
    menu     the picker's menu of recent tasks

Importing it is cheap: rich is imported only where something is drawn.
"""

from mivid.render.output import Form, Output, RecordSink, RecordView, is_tty

__all__ = ["Form", "Output", "RecordSink", "RecordView", "is_tty"]
