"""Programme model and content-pack toolkit: authoring, age encryption, signing, packs."""
