// Step logs are asserted through ports, not stdout; keep test output readable.
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
