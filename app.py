"""Start the smpvision app for SMP technicians: `python app.py` (see smpvision/app_ui.py).

Honours GRADIO_SERVER_PORT and GRADIO_SERVER_NAME; SMPVISION_APP_WORKERS sets how many assessments run at
once (default 2) and SMPVISION_MODEL another .onnx model file. Needs the app extra: pip install -e ".[app]".
"""

from smpvision.app_ui import main

if __name__ == "__main__":
    main()
