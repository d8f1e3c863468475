"""The standalone regional trust registry (roadmap capability 4).

It lists member jurisdictions, their pinned ministry keys and node endpoints, and publishes RQF and
checkpoint-catalogue versions as a k-of-n signed list. It never imports `node`: the registry must run
without a national node, and a node must not be able to reach into the registry's internals.
"""
