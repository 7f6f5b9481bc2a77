"""Request dependencies: the current model, read from the app state (no module globals)."""
from __future__ import annotations

from fastapi import Request

from geo.model import Model
from service.state import ModelHolder


def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


def get_model(request: Request) -> Model:
    """The model serving this request."""
    return request.app.state.holder.model
