/** Loaded by stryker.config.mjs only: a mutation run skips slow figures and runs a short interleaving model. */
process.env.SLUICE_MUTATION_RUN = '1';
process.env.SLUICE_PROTOCOL_RUNS ??= '12';
