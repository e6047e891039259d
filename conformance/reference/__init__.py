"""The embedded reference LMS: a faithful fake of the IPSIS routes, with switchable faults.

Public API: :func:`create_app`, :class:`ReferenceConfig`, :class:`Token`, :data:`FAULTS`,
:data:`SEED`, :func:`serve_in_thread`.
"""

from conformance.reference.app import ReferenceLMS, create_app
from conformance.reference.config import (
    DEFAULT_LATEST_LE_VERSION,
    DEFAULT_TOKEN_PROFILES,
    ReferenceConfig,
    Token,
    TokenFileError,
    generate_tokens,
    load_tokens,
)
from conformance.reference.faults import FAULTS, Fault, UnknownFaultError, resolve_faults
from conformance.reference.server import RunningServer, serve_in_thread
from conformance.reference.store import SEED, Seed

__all__ = [
    "DEFAULT_LATEST_LE_VERSION",
    "DEFAULT_TOKEN_PROFILES",
    "FAULTS",
    "SEED",
    "Fault",
    "ReferenceConfig",
    "ReferenceLMS",
    "RunningServer",
    "Seed",
    "Token",
    "TokenFileError",
    "UnknownFaultError",
    "create_app",
    "generate_tokens",
    "load_tokens",
    "resolve_faults",
    "serve_in_thread",
]
