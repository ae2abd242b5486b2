"""The host-side LLM gateway: sandboxes call models through it with a token, never with a key."""

from hgm.gateway.config import GatewayConfig, ModelConfig
from hgm.gateway.core import CallRecorder, Gateway, Grant
from hgm.gateway.doctor import ModelCheck, check_model, inspect_model
from hgm.gateway.errors import GatewayError

__all__ = [
    "CallRecorder",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "Grant",
    "ModelCheck",
    "ModelConfig",
    "check_model",
    "inspect_model",
]
