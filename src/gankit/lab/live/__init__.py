"""``gankit lab serve``: watch a GAN learn on a toy distribution in the browser, and change it while it learns.

The page (after GAN Lab, Kahng et al. 2019) trains gankit's own GAN, in the server process, with the method and
step functions ``gankit train`` uses, and streams the run over a websocket: real and generated points, D's output
as a heat map, G's gradient on each generated point, the loss curves, PacGAN's mode metrics and GAN Lab's
grid-binned KL/JS. Parameters changed mid-run apply from the next step; a run saves as an ordinary run directory
that ``gankit train --resume`` continues, and reopens in the page.

- :mod:`gankit.lab.live.session`: the run and its parameters, without the web (:class:`LiveSession`);
- :mod:`gankit.lab.live.view`: what a frame shows, from the run's own networks and loss;
- :mod:`gankit.lab.live.server`: the FastAPI app, the websocket and the training thread (:func:`serve`);
- ``static/``: the page (plain HTML, CSS and JavaScript drawing on canvases; nothing from a CDN).

Needs the ``lab`` extra (``pip install 'gankit[lab]'``: FastAPI, uvicorn, websockets).
"""

from gankit.lab.live.session import LiveParams, LiveSession


def serve(port: int = 8765, open_browser: bool = False) -> None:
    """Serve the page on http://127.0.0.1:PORT until Ctrl-C (see :func:`gankit.lab.live.server.serve`)."""
    try:
        from gankit.lab.live.server import serve as _serve  # late: FastAPI is an optional dependency
    except ImportError as e:
        from gankit.errors import UserError

        raise UserError(str(e)) from None
    _serve(port, open_browser)


__all__ = ["LiveParams", "LiveSession", "serve"]
