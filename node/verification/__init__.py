"""Verification: the typed result every check returns, and the one pipeline that composes the checks.

`from node.verification import Check, VerificationResult` is the seam every module uses. The pipeline
(`node.verification.pipeline.CredentialVerifier`) and its checks (`node.verification.checks`) are
imported from their modules, so that the core library (crypto) can use the result without a cycle.
"""

from node.verification.result import Check, VerificationResult

__all__ = ["Check", "VerificationResult"]
