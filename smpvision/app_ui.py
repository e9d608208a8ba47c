"""The Gradio app for SMP technicians: layout and wiring only; what it does is `smpvision.app_logic`.

    python app.py            # http://127.0.0.1:7860 ; GRADIO_SERVER_PORT / GRADIO_SERVER_NAME are honoured

Privacy (patients' photos): uploads live only in Gradio's temporary cache, which is swept every
`CACHE_SWEEP` and emptied when the server stops; outputs are drawn from pixel arrays (no EXIF/GPS); the
browser keeps no run history; usage analytics are off.

Load: one model session serves everyone. Assessments (the "Assess" button and the `/assess` API) share
one group of `SMPVISION_APP_WORKERS` (default 2) concurrent runs, so memory stays bounded however many
technicians press the button; the others wait in the queue and see their position. (The example buttons
run in a group of the same size of their own: small rendered photos.)
"""

from __future__ import annotations

import os
import signal

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no telemetry calls

import gradio as gr  # noqa: E402  (the environment above must be set first)

from .app_examples import EXAMPLES, EXAMPLES_DIR, example_path  # noqa: E402
from .app_logic import MAX_FILE_MB, MAX_PHOTOS, VIEW_SLOTS, ZONE_HEADERS, Choices, Engine  # noqa: E402

CACHE_SWEEP = (600, 3600)  # every 10 min, delete uploads and outputs older than 1 h
QUEUE_MAX = 64  # waiting requests beyond this are told the queue is full
OWN_HAIR = "own"
PHOTO_TYPES = ["image", ".heic", ".heif"]
_WAITING = "<p style='color:#555'>Add photos and press <b>Assess</b>; the results appear here.</p>"
CSS = "#assess-button {font-size: 1.15em}"
Paths = list[str] | None  # what a multi-file slot hands over: cached upload paths, or None when empty
INTRO = f"""# smpvision: scalp photo assessment for SMP
Drop each photo of the client in the box of the view it shows (up to {MAX_PHOTOS} photos, {MAX_FILE_MB} MB
each), choose the look the client wants, and press **Assess**. New here? Click an example below.
Results are an aid to your judgement, not a diagnosis."""


def build_app(engine: Engine, workers: int = 2) -> gr.Blocks:
    gr.set_static_paths([EXAMPLES_DIR])  # shipped examples are served as they are, not copied to the cache
    hair_choices = [("The client's own (as measured)", OWN_HAIR)] + [
        (name.replace("_", " "), name) for name in engine.hair_names
    ]

    def analyse(
        front: Paths, top: Paths, crown: Paths, back: Paths, side: Paths, closeup: Paths,
        look: str, hair: str, mm_per_px: float | None, progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:  # fmt: skip
        """The Assess button: photos per view slot and the options → every result panel."""
        slots = dict(zip([t for t, _ in VIEW_SLOTS], [front, top, crown, back, side, closeup], strict=True))
        choices = Choices(mm_per_px or None, look, None if hair == OWN_HAIR else hair)
        res = engine.run(slots, choices, lambda f, d: progress(f, desc=d))
        if res.notice:
            gr.Warning(res.notice)
        table = {"headers": ZONE_HEADERS, "data": res.zone_table}
        return res.verdict_html, res.gallery, res.details_html, table, res.downloads or None, res.document

    def assess(photo: str | None, view: str, mm_per_px: float | None, look: str, desired_hair: str) -> dict:
        """One photo in (JPEG/PNG/HEIC), its assessment JSON (schema smpvision.assessment/1) out.
        view: auto or a view tag; mm_per_px: 0 = the scale card or none; desired_hair: own or a colour."""
        hair = None if desired_hair in (None, OWN_HAIR) else desired_hair
        choices = Choices(mm_per_px or None, look or "shaved", hair)
        return engine.assess_one(photo, None if view in (None, "auto") else view, choices)

    with gr.Blocks(title="smpvision", delete_cache=CACHE_SWEEP, analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        files = []
        for row in (VIEW_SLOTS[:3], VIEW_SLOTS[3:]):
            with gr.Row():
                for tag, label in row:
                    slot = gr.File(
                        label=label,
                        file_count="multiple",
                        file_types=PHOTO_TYPES,
                        height=140,
                        elem_id=f"photos-{tag}",
                    )
                    files.append(slot)
        with gr.Row():
            look = gr.Radio(
                [("Shaved-head look", "shaved"), ("Density between long hair", "density")],
                value="shaved",
                label="Look the client wants",
            )
            hair = gr.Dropdown(hair_choices, value=OWN_HAIR, label="Hair colour to match")
            mm = gr.Number(
                value=None,
                minimum=0,
                label="Scale in mm per pixel (optional)",
                info="0 or empty: taken from the printed scale card when it is in the photo.",
            )
        button = gr.Button("Assess", variant="primary", size="lg", elem_id="assess-button")

        # Results are created first and placed after the examples, which need them as outputs.
        verdict = gr.HTML(_WAITING, elem_id="verdict", render=False)
        gallery = gr.Gallery(
            label="Zones and hair density (pick a thumbnail; click to enlarge)",
            preview=True,
            selected_index=0,
            format="png",
            object_fit="contain",
            height=760,
            elem_id="figures",
            render=False,
        )
        details = gr.HTML("", elem_id="details", render=False)
        zones = gr.Dataframe(
            headers=ZONE_HEADERS, label="Zones", interactive=False, wrap=True, elem_id="zones", render=False
        )
        downloads = gr.File(
            label="Report for the client file (PDF) and data (JSON)",
            file_count="multiple",
            interactive=False,
            elem_id="downloads",
            render=False,
        )
        document = gr.JSON(label="smpvision.assessment/1", render=False)
        inputs = [*files, look, hair, mm]
        outputs = [verdict, gallery, details, zones, downloads, document]

        gr.Examples(
            examples=_examples(),
            inputs=inputs,
            outputs=outputs,
            fn=analyse,
            run_on_click=True,
            cache_examples=False,
            example_labels=[ex.label for ex in EXAMPLES] + ["All four photos of one client"],
            label="Examples (rendered photos): click one to assess it",
        )
        gr.Markdown("## Results")
        verdict.render()
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                gallery.render()
            with gr.Column(scale=1):
                details.render()
        zones.render()
        downloads.render()
        with gr.Accordion("Assessment JSON", open=False):
            document.render()
        button.click(
            analyse, inputs, outputs, api_name="analyse", concurrency_id="assess", concurrency_limit=workers
        )

        # The API for clinic software and tests: hidden inputs, same queue slots as the button.
        api_inputs = [
            gr.File(visible=False, file_types=PHOTO_TYPES),
            gr.Dropdown(["auto"] + [t for t, _ in VIEW_SLOTS], value="auto", visible=False),
            gr.Number(value=0, minimum=0, visible=False),
            gr.Radio(["shaved", "density"], value="shaved", visible=False),
            gr.Dropdown([OWN_HAIR, *engine.hair_names], value=OWN_HAIR, visible=False),
        ]
        gr.on(
            triggers=None,
            fn=assess,
            inputs=api_inputs,
            outputs=gr.JSON(visible=False),
            api_name="assess",
            concurrency_id="assess",
            concurrency_limit=workers,
            show_progress="hidden",
        )
    return demo


def _examples() -> list[list]:
    by_tag = {ex.tag: str(example_path(ex)) for ex in EXAMPLES}

    def row(tags: set[str], mm_per_px: float | None = None) -> list:
        return [[by_tag[t]] if t in tags else None for t, _ in VIEW_SLOTS] + ["shaved", OWN_HAIR, mm_per_px]

    # the mm/px box applies to every photo of a run, so the all-views example leaves it to the card/estimate
    return [row({ex.tag}, ex.mm_per_px) for ex in EXAMPLES] + [row(set(by_tag))]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    workers = max(1, int(os.environ.get("SMPVISION_APP_WORKERS", "2")))
    engine = Engine(workers=workers, model_path=os.environ.get("SMPVISION_MODEL") or None)
    demo = build_app(engine, workers)
    demo.queue(max_size=QUEUE_MAX, default_concurrency_limit=workers)
    # A service manager stops the app with SIGTERM. Turned into the Ctrl-C that launch() handles, it shuts
    # the server down cleanly, which empties Gradio's cache of uploads; then the report folder goes too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.launch(
            max_file_size=f"{MAX_FILE_MB}mb",
            run_history=False,  # the browser must not keep patients' photos and results
            ssr_mode=False,  # no Node.js needed
            enable_monitoring=False,
            footer_links=["api"],
            css=CSS,
        )
    finally:
        engine.close()
