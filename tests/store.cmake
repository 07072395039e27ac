# run/store.c: the object store on a temp SQLite file
slipway_unit_test(store slipway_run)
