/** Imported first by benches: step logs off before any logger is created (imports run before the bench's own code). */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

export {};
