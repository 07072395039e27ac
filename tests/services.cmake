# run/services.c: endpoints, assigned fields, proxy configuration
slipway_unit_test(services slipway_run)
