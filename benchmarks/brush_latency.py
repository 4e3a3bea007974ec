"""The correction tools' latency in a real window (gui_latency.py calls ``brush_rows`` with its
12 MP photo open; ``python benchmarks/gui_latency.py`` prints them in its table):

- brush move -> painted preview: one mouse move of an "Add to subject" stroke until the trimap
  pane shows it (goal median <= 33 ms), against a baseline measured in the same run: painting
  that move at full resolution (``stroke_patch`` on the 12 MP matte) and showing it by colouring
  and replacing the whole trimap pane's picture, as a pane refresh would;
- stroke end -> full-resolution matte: button released until the stroke's 12 MP patch is in
  the matte (goal <= 300 ms); and until the portrait preview shows it (no goal);
- Subject click where the model found nothing -> the first look (GrabCut on the preview at a
  small size) over the panes (goal <= 1 s), and -> the full GrabCut's subject in the matte.
"""

from __future__ import annotations

import statistics
import time


def brush_rows(
    app, window, ms, wait_for, stalls=None, strokes: int = 5
) -> list[tuple[str, str, str, str]]:
    """Rows (measure, median, p95, goal) for the table; ``ms`` formats seconds, ``wait_for(app,
    condition)`` runs the event loop until the condition holds (gui_latency's); ``stalls``:
    gui_latency's StallMeter, told which phase runs (its baselines work on the GUI thread)."""

    def phase(name: str) -> None:
        if stalls is not None:
            stalls.phase = name

    from petseg_gui.edits import Stroke, stroke_patch
    from petseg_gui.overlay import trimap_overlay
    from petseg_gui.ui.session_state import to_qimage
    from petseg_gui.ui.tools import Tool

    tools, session = window.tools, window.session
    wait_for(app, lambda: tools.edit is not None and not session.busy)
    height, width = tools.edit.alpha.shape
    photo = session.photo
    view = window.panes.trimap.view
    edited: list[object] = []
    rendered: list[object] = []
    tools.edited.connect(lambda: edited.append(1))
    window.resultShown.connect(rendered.append)
    tools.set_tool(Tool.ADD)
    radius = 0.015 * width  # 60 px at 4000 px wide
    moves, baseline, ends, ends_shown = [], [], [], []
    for index in range(strokes):
        y = height * (0.1 + 0.15 * index)
        points = [(width * (0.05 + 0.02 * i), y) for i in range(15)]
        phase("brush")
        tools.begin_stroke(*points[0], radius)
        for x, py in points[1:]:
            start = time.perf_counter()
            tools.extend_stroke(x, py)
            view.viewport().repaint()
            moves.append(time.perf_counter() - start)
            app.processEvents()  # as between two mouse moves: the event loop runs
        # Baseline: the same move painted without the live layer: at full resolution, and the
        # whole trimap pane coloured again and shown.
        tail = Stroke("add", radius, tuple(points[-2:]))
        phase("brush baseline")
        start = time.perf_counter()
        stroke_patch(tools.edit.alpha, tools.edit.rgb, tail)
        overlay = trimap_overlay(photo.preview, tools.edit.preview_trimap, 0.5)
        view.set_image(to_qimage(overlay), photo.size)
        view.viewport().repaint()
        baseline.append(time.perf_counter() - start)
        phase("stroke end")
        before_edit, before_shown = len(edited), len(rendered)
        start = time.perf_counter()
        tools.end_stroke()
        wait_for(app, lambda b=before_edit: len(edited) > b)
        ends.append(time.perf_counter() - start)
        wait_for(app, lambda b=before_shown: len(rendered) > b and not session.busy)
        ends_shown.append(time.perf_counter() - start)

    tools.set_tool(Tool.SUBJECT)
    phase("subject click")
    clicks, looks = [], []
    patches: list[float] = []
    tools.livePatch.connect(lambda *_: patches.append(time.perf_counter()))
    for index in range(max(3, strokes // 2)):
        found = tools.edit.model_alpha
        # A dark corner: where the model found nothing, so the click grows a subject there.
        x, y = width * (0.9 - 0.02 * index), height * (0.85 - 0.02 * index)
        assert found[int(y), int(x)] < 0.5
        # As a user would: after the previous edit's panes and sidecar are done.
        wait_for(app, lambda: not session.busy and not window.sidecars.writer.busy)
        before = len(edited)
        del patches[:]
        start = time.perf_counter()
        tools.click(x, y, add=True)
        wait_for(app, lambda b=before: len(edited) > b or not tools.pending)
        clicks.append(time.perf_counter() - start)
        # The first look (GrabCut on the preview at a small size) shown before the full click.
        looks.append((patches[0] if patches else time.perf_counter()) - start)
        assert len(edited) > before, "the click grew nothing"
        # Undone, so the next click grows a subject again (a click on what is subject already
        # changes nothing and costs nothing).
        window.undo_stack.undo()
    tools.set_tool(Tool.VIEW)
    window.undo_stack.setClean()

    def median(values):
        return ms(statistics.median(values))

    def p95(values):
        ordered = sorted(values)
        return ms(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))])

    return [
        ("brush move -> preview painted", median(moves), p95(moves), "<= 33 ms"),
        ("  baseline: full res, whole pane", median(baseline), p95(baseline), ""),
        ("stroke end -> 12 MP matte", median(ends), p95(ends), "<= 300 ms"),
        ("stroke end -> portrait shown", median(ends_shown), p95(ends_shown), ""),
        ("Subject click -> first look shown", median(looks), p95(looks), "<= 1000 ms"),
        ("Subject click -> full click in", median(clicks), p95(clicks), ""),
    ]
