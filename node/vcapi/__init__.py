"""The W3C Credentials Community Group's VC API (VCALM) on a Puente node: issue, verify, read and change the
status of credentials through the same services, principals, limits and verification pipeline as the rest."""
