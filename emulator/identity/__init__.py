"""Local identity services: OIDC issuer, STS, SSO-OIDC, and the registry of issued sessions.

``create_app`` lives in ``emulator.identity.server`` (import it from there: this package's
``__init__`` stays light because the Data API server imports the registry from it).
"""
from streamload.core.personas import DEFAULT_PERSONAS, Persona
from emulator.identity.registry import CallerIdentity, IdentityRegistry

__all__ = ["CallerIdentity", "IdentityRegistry", "Persona", "DEFAULT_PERSONAS"]
