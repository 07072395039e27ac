# manifests/selector.c, kinds.c, object.c
slipway_unit_test(selector slipway_manifests)
