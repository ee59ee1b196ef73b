/**
 * The catalog queries behind engine/mssql/catalog.ts, one per row shape in
 * catalog-rows.ts. They use only sys.* views and columns present since SQL
 * Server 2008, because the legacy server being migrated away from is often
 * old. System objects (is_ms_shipped) and the SSMS diagram support objects
 * (sysdiagrams and its procedures, marked by an extended property rather than
 * is_ms_shipped) are left out.
 */

const NOT_TOOLS_SUPPORT = (alias: string): string => `NOT EXISTS (
    SELECT 1 FROM sys.extended_properties AS ep
    WHERE ep.class = 1 AND ep.major_id = ${alias}.object_id AND ep.minor_id = 0
      AND ep.name = N'microsoft_database_tools_support')`;

export const DATABASE_QUERY = `
SELECT DB_NAME() AS database_name,
       CONVERT(nvarchar(128), DATABASEPROPERTYEX(DB_NAME(), 'Collation')) AS collation_name,
       CONVERT(nvarchar(512), @@VERSION) AS server_version`;

/** Row counts from sys.partitions: the heap (0) or clustered index (1) holds every row once. */
export const TABLES_QUERY = `
SELECT t.object_id, s.name AS schema_name, t.name AS table_name,
       CONVERT(varchar(20), ISNULL((SELECT SUM(p.rows) FROM sys.partitions AS p
                                    WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)), 0)) AS row_count
FROM sys.tables AS t
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE t.is_ms_shipped = 0
  AND ${NOT_TOOLS_SUPPORT('t')}
ORDER BY s.name, t.name`;

/**
 * Alias types resolve to their base type through system_type_id; sysname too
 * (a system alias of nvarchar). CLR types (hierarchyid, geography, geometry)
 * share system_type_id 240, so they keep their own name. The default is found
 * by its parent column rather than by joining on default_object_id: the same
 * on SQL Server, and Babelfish (whose default_object_id is always 0) finds it.
 */
export const COLUMNS_QUERY = `
SELECT c.object_id, c.column_id, c.name AS column_name,
       CASE WHEN ut.user_type_id = ut.system_type_id OR ut.is_assembly_type = 1 THEN ut.name ELSE bt.name END AS type_name,
       CASE WHEN ut.is_user_defined = 1 THEN ut.name END AS user_type_name,
       c.max_length, c.precision, c.scale, c.is_nullable, c.is_identity, c.is_computed,
       CONVERT(varchar(40), ic.seed_value) AS identity_seed,
       CONVERT(varchar(40), ic.increment_value) AS identity_increment,
       (SELECT dc.definition FROM sys.default_constraints AS dc
        WHERE dc.parent_object_id = c.object_id AND dc.parent_column_id = c.column_id) AS default_definition,
       c.collation_name
FROM sys.columns AS c
JOIN sys.tables AS t ON t.object_id = c.object_id
JOIN sys.types AS ut ON ut.user_type_id = c.user_type_id
LEFT JOIN sys.types AS bt ON bt.user_type_id = ut.system_type_id
LEFT JOIN sys.identity_columns AS ic ON ic.object_id = c.object_id AND ic.column_id = c.column_id
WHERE t.is_ms_shipped = 0
ORDER BY c.object_id, c.column_id`;

/** Asked only when some column is computed (Babelfish 4.3 fails on any read of this view's definition). */
export const COMPUTED_COLUMNS_QUERY = `
SELECT cc.object_id, cc.column_id, cc.definition, cc.is_persisted
FROM sys.computed_columns AS cc
JOIN sys.tables AS t ON t.object_id = cc.object_id
WHERE t.is_ms_shipped = 0`;

/**
 * One row per index column, the index's own fields repeated. Only rowstore
 * B-tree indexes (type 1 clustered, 2 nonclustered); hypothetical (tuning
 * advisor) and disabled indexes enforce nothing in the source either.
 */
export const INDEX_COLUMNS_QUERY = `
SELECT i.object_id, i.index_id, i.name AS index_name,
       i.is_primary_key, i.is_unique_constraint, i.is_unique, i.filter_definition,
       c.name AS column_name, ic.key_ordinal, ic.index_column_id, ic.is_descending_key, ic.is_included_column
FROM sys.indexes AS i
JOIN sys.tables AS t ON t.object_id = i.object_id
JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE t.is_ms_shipped = 0 AND i.type IN (1, 2) AND i.is_hypothetical = 0 AND i.is_disabled = 0
ORDER BY i.object_id, i.index_id, ic.key_ordinal, ic.index_column_id`;

/** One row per foreign key column, the constraint's own fields repeated. */
export const FOREIGN_KEY_COLUMNS_QUERY = `
SELECT fk.object_id, fk.parent_object_id, fk.name AS fk_name,
       rs.name AS ref_schema, rt.name AS ref_table,
       fk.delete_referential_action_desc, fk.update_referential_action_desc,
       fk.is_not_trusted, fk.is_disabled,
       fkc.constraint_column_id, pc.name AS column_name, rc.name AS ref_column_name
FROM sys.foreign_keys AS fk
JOIN sys.tables AS rt ON rt.object_id = fk.referenced_object_id
JOIN sys.schemas AS rs ON rs.schema_id = rt.schema_id
JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.is_ms_shipped = 0
ORDER BY fk.parent_object_id, fk.name, fkc.constraint_column_id`;

export const CHECKS_QUERY = `
SELECT cc.parent_object_id, cc.name AS check_name, cc.definition, col.name AS column_name
FROM sys.check_constraints AS cc
LEFT JOIN sys.columns AS col ON col.object_id = cc.parent_object_id AND col.column_id = cc.parent_column_id
WHERE cc.is_ms_shipped = 0
ORDER BY cc.parent_object_id, cc.name`;

/**
 * Everything the ETL does not move itself, for the conversion report: views,
 * routines, object-level triggers (DML; a database-level DDL trigger lives
 * only in sys.triggers), sequences, synonyms and user-defined types.
 */
export const OTHERS_QUERY = `
SELECT s.name AS schema_name, o.name AS object_name, RTRIM(o.type) AS object_type, po.name AS parent_name
FROM sys.objects AS o
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
LEFT JOIN sys.objects AS po ON po.object_id = o.parent_object_id AND o.type IN ('TR', 'TA')
WHERE o.is_ms_shipped = 0
  AND o.type IN ('V', 'P', 'PC', 'X', 'RF', 'FN', 'IF', 'TF', 'FS', 'FT', 'AF', 'TR', 'TA', 'SO', 'SN')
  AND ${NOT_TOOLS_SUPPORT('o')}
UNION ALL
SELECT s.name, ty.name, 'TY', NULL
FROM sys.types AS ty
JOIN sys.schemas AS s ON s.schema_id = ty.schema_id
WHERE ty.is_user_defined = 1
ORDER BY 1, 2`;
