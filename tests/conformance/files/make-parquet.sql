-- How the Parquet files of the conformance table were made (DuckDB, run from tests/conformance/files).
COPY (SELECT * FROM (VALUES (1::INTEGER, 12.5::DECIMAL(6,1), 'ann', TIMESTAMP '2024-01-05 10:00:00')) t(id, amount, customer, seen_at)) TO 'parquet-narrower/a.parquet' (FORMAT parquet);
COPY (SELECT * FROM (VALUES (2::BIGINT, 3.25::DECIMAL(12,2), 'bob', TIMESTAMP '2024-01-05 10:00:00.5')) t(id, amount, customer, seen_at)) TO 'parquet-narrower/b.parquet' (FORMAT parquet);
COPY (SELECT * FROM (VALUES (1::BIGINT, 12.5::DOUBLE, 'ann'), (3000000000::BIGINT, 1.25::DOUBLE, 'big'), (4::BIGINT, 1234.5::DOUBLE, 'wide')) t(id, amount, customer)) TO 'parquet-wider/a.parquet' (FORMAT parquet);
COPY (SELECT * FROM (VALUES (2.0::DOUBLE, 1.0::DOUBLE, 'two'), (2.5::DOUBLE, 1.0::DOUBLE, 'half')) t(id, amount, customer)) TO 'parquet-wider/b.parquet' (FORMAT parquet);
COPY (SELECT * FROM (VALUES (1::BIGINT, 12.5::DECIMAL(12,2), 'ann')) t(id, amount, customer)) TO 'parquet-missing-column/a.parquet' (FORMAT parquet);
COPY (SELECT * FROM (VALUES (2::BIGINT, 3::DECIMAL(12,2))) t(id, amount)) TO 'parquet-missing-column/b.parquet' (FORMAT parquet);
