"""The SQL a snapshot runs: one query per kind of object (a :class:`_Part`), the census of the
catalogs that hold anything made after initdb, and the versions a :class:`~._cache.SnapshotCache`
compares. Built once per server version."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from ..catalog import FIRST_USER_OID, CatalogQuery, not_extension_member, text_array, user_schema


@dataclass(frozen=True)
class _Part(CatalogQuery):
    """The query of one or a few kinds of objects, and the catalog that tells whether to run it.

    ``gate`` is ``"catalog"`` or ``"catalog.column"``: whenever the query finds anything, that
    catalog holds a row whose oid (in that column) is at least ``FIRST_USER_OID``; ``None``
    means always run. The query takes the excluded schemas and tables.
    """

    parameter_types: str = "(text[], text[], oid[])"
    gate: str | None = None
    kind: str = ""  # the type of object it reads (the last one its object type names)
    attributes: tuple[str, ...] = ()  # the names of the columns after object type and name
    # Whether its objects hang on a relation (a table, view or sequence: the "cluster" of
    # SnapshotCache), and then the query reads only the relations its third argument lists
    # (NULL: all).
    cluster: bool = False
    # The same query without its context, its attributes packed in one JSON array: the parts
    # are read together, as one statement (see _together), by a SnapshotCache.
    packed: str = ""


@functools.cache
def _together(parts: tuple[_Part, ...]) -> CatalogQuery:
    """One statement reading ``parts``: (the part's index, cluster, identity, object type, name,
    attributes as a JSON array). Starting a statement's executor costs about as much as reading
    a few objects, so a few changed objects are read faster by one statement than by many."""
    union = "\n    UNION ALL ".join(f"SELECT {index}, * FROM ({part.packed}) p{index}" for index, part in enumerate(parts))
    return CatalogQuery(_with_context(union), "(text[], text[], oid[])")


@dataclass(frozen=True)
class _Queries:
    census: CatalogQuery  # one boolean per catalog: does it hold objects made after initdb
    catalogs: tuple[str, ...]
    parts: tuple[_Part, ...]
    relation_versions: CatalogQuery  # (relation oid, sum of its catalog rows' version hashes)

    def present_parts(self, census: Sequence[bool]) -> list[_Part]:
        """The parts that can find anything, by the census."""
        present = {catalog for catalog, found in zip(self.catalogs, census) if found}
        return [part for part in self.parts if part.gate is None or part.gate in present]


def _acl(acl: str, object_type: str, owner: str, *, default: bool = True) -> str:
    """SQL for a sorted JSON list of ``"grantee PRIVILEGE"`` strings, owner-independent.

    A NULL ACL means the built-in default, which a GRANT then REVOKE can also leave behind
    spelled out: expanding NULL to ``acldefault()`` makes the two compare equal, as pg_dump does.
    Rendered owner-independent, the default is the same for every object of a type, so it is
    computed once per query (an uncorrelated subquery), for a stand-in owner.
    """
    if not default:
        return f"CASE WHEN {acl} IS NOT NULL THEN {_acl_items(acl, owner)} END"
    stand_in = f"acldefault('{object_type}', 10)"  # 10: the bootstrap superuser
    return f"CASE WHEN {acl} IS NULL THEN {_acl_items(stand_in, '10')} ELSE {_acl_items(acl, owner)} END"


def _acl_items(acl: str, owner: str) -> str:
    return f"""(SELECT json_agg(p ORDER BY p) FROM (
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' WHEN a.grantee = {owner} THEN '<owner>'
                    ELSE quote_ident(pg_get_userbyid(a.grantee)) END
               || ' ' || a.privilege_type
               || CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END
               || CASE WHEN a.grantor = {owner} THEN ''
                       ELSE ' GRANTED BY ' || quote_ident(pg_get_userbyid(a.grantor)) END AS p
        FROM aclexplode({acl}) a) acl)"""


def _comment(oid: str, catalog: str, subid: str = "0") -> str:
    # obj_description() is a SQL function, called once per row: a plain subquery is much cheaper
    return (
        f"(SELECT ds.description FROM pg_description ds WHERE ds.objoid = {oid}"
        f" AND ds.classoid = '{catalog}'::regclass AND ds.objsubid = {subid})"
    )


def _options(array: str) -> str:
    return f"CASE WHEN {array} IS NOT NULL THEN (SELECT json_agg(o ORDER BY o) FROM unnest({array}) o) END"


@functools.cache
def _queries(server_version: int) -> _Queries:
    parts = _parts(server_version)
    catalogs = tuple(sorted({part.gate for part in parts if part.gate is not None}))
    checks = []
    for gate in catalogs:
        catalog, _, column = gate.partition(".")
        checks.append(f"EXISTS (SELECT FROM pg_catalog.{catalog} WHERE {column or 'oid'} >= {FIRST_USER_OID})")
    census = CatalogQuery("SELECT ARRAY[" + ", ".join(checks) + "]")
    return _Queries(census, catalogs, parts, _relation_versions(server_version))


# The catalogs whose rows describe a relation and what hangs on it, and the column that names
# the relation (or, for pg_class, pg_attribute, pg_inherits and pg_depend, also one of its
# indexes, folded into its table below).
_RELATION_ROWS = {
    "pg_class": "oid", "pg_attribute": "attrelid", "pg_attrdef": "adrelid", "pg_constraint": "conrelid",
    "pg_index": "indrelid", "pg_trigger": "tgrelid", "pg_policy": "polrelid", "pg_rewrite": "ev_class",
    "pg_inherits": "inhrelid", "pg_partitioned_table": "partrelid", "pg_sequence": "seqrelid",
    "pg_foreign_table": "ftrelid",
}  # fmt: skip


# The catalogs (and the column holding a user object's oid) whose rows describe the objects
# that hang on no relation: schemas, extensions, functions, types, ... Their versions add up to
# one, of the pseudo-relation 0 (see SnapshotCache). pg_namespace and pg_extension are read
# whole: the public schema and plpgsql are made by initdb.
_UNATTACHED_ROWS = {
    "pg_namespace": None, "pg_extension": None, "pg_language": "oid", "pg_proc": "oid",
    "pg_aggregate": "aggfnoid", "pg_enum": "enumtypid", "pg_range": "rngtypid", "pg_statistic_ext": "oid",
    "pg_event_trigger": "oid", "pg_cast": "oid", "pg_operator": "oid", "pg_collation": "oid",
    "pg_opclass": "oid", "pg_opfamily": "oid", "pg_amop": "oid", "pg_amproc": "oid", "pg_am": "oid",
    "pg_conversion": "oid", "pg_ts_config": "oid", "pg_ts_config_map": "mapcfg", "pg_ts_dict": "oid",
    "pg_ts_parser": "oid", "pg_ts_template": "oid", "pg_foreign_data_wrapper": "oid",
    "pg_foreign_server": "oid", "pg_publication": "oid",
    "pg_publication_rel": "oid", "pg_default_acl": "oid",
}  # fmt: skip


def _relation_versions(server_version: int) -> CatalogQuery:
    """A query of (oid, version) for every relation a snapshot can show, for the pseudo-relation
    0 (everything that hangs on no relation) and for -1 (the roles' names, which privileges
    print). A version is the sum of a 64-bit hash of (xmin, ctid) over the catalog rows that
    describe the relation and its indexes, constraints, triggers, policies, rules, dependencies
    (ownership, extension membership) and comments (see :class:`SnapshotCache`)."""
    if server_version >= 140000:
        version = "hash_record_extended(row({0}xmin, {0}ctid), 0)"
    else:
        version = "hashtextextended({0}xmin::text || {0}ctid::text, 0)"
    rows = [
        f"SELECT {column}::int8, {version.format('')} FROM pg_catalog.{catalog} WHERE {column} >= {FIRST_USER_OID}"
        + (" AND attnum > 0" if catalog == "pg_attribute" else "")  # system columns never change
        for catalog, column in _RELATION_ROWS.items()
    ]
    unattached = dict(_UNATTACHED_ROWS)
    if server_version >= 150000:
        unattached["pg_publication_namespace"] = "oid"
    for catalog, column in unattached.items():
        where = f" WHERE {column} >= {FIRST_USER_OID}" if column else ""
        rows.append(f"SELECT 0::int8, {version.format('')} FROM pg_catalog.{catalog}{where}")
    rows.append(f"""SELECT objid::int8, {version.format('')} FROM pg_depend
        WHERE classid = 'pg_class'::regclass AND objid >= {FIRST_USER_OID}""")
    rows.append(f"""SELECT 0::int8, {version.format('')} FROM pg_depend
        WHERE refclassid = 'pg_extension'::regclass AND classid <> 'pg_class'::regclass""")
    # domain constraints; a table's constraints are the table's
    rows.append(f"""SELECT 0::int8, {version.format('')} FROM pg_constraint
        WHERE contypid >= {FIRST_USER_OID}""")
    # a table's row type and its array are the table's, a composite type's are its relation's
    rows.append(f"""SELECT (CASE WHEN t.typrelid <> 0 THEN t.typrelid ELSE coalesce(e.typrelid, 0) END)::int8,
        {version.format('t.')} FROM pg_type t LEFT JOIN pg_type e ON e.oid = t.typelem
        WHERE t.oid >= {FIRST_USER_OID}""")
    rows.append(f"""SELECT coalesce(CASE ds.classoid
            WHEN 'pg_class'::regclass THEN ds.objoid
            WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = ds.objoid)
            WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = ds.objoid)
            WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = ds.objoid)
            WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = ds.objoid) END, 0)::int8,
        {version.format('ds.')} FROM pg_description ds WHERE ds.objoid >= {FIRST_USER_OID}""")
    # user mappings through the view any role may read (the catalog has no xmin to show it)
    rows.append(f"""SELECT 0::int8, hashtextextended(umid::text || coalesce(umoptions::text, ''), 0)
        FROM pg_user_mappings WHERE umid >= {FIRST_USER_OID}""")
    # 2200: the public schema made by initdb, the only object from before with a comment shown
    rows.append(f"""SELECT 0::int8, {version.format('')} FROM pg_description WHERE objoid = 2200""")
    rows.append("SELECT -1::int8, hash_record_extended(row(oid, rolname), 0) FROM pg_roles WHERE oid >= 16384"
                if server_version >= 140000 else
                "SELECT -1::int8, hashtextextended(oid::text || rolname, 0) FROM pg_roles WHERE oid >= 16384")
    rows.append("SELECT 0::int8, 0::int8 UNION ALL SELECT -1::int8, 0::int8")  # both always there
    union = "\n    UNION ALL ".join(rows)
    return CatalogQuery(
        f"""
    WITH version (unit, hash) AS (
    {union}
    ),
    unit AS (SELECT unit, sum(hash) AS hash FROM version GROUP BY unit)
    SELECT CASE WHEN u.unit <= 0 OR r.relkind = 'c' THEN least(u.unit, 0) ELSE r.oid::int8 END AS oid,
           sum(u.hash)::text AS version
    FROM unit u LEFT JOIN pg_index i ON i.indexrelid::int8 = u.unit
    LEFT JOIN pg_class r ON r.oid::int8 = coalesce(i.indrelid::int8, u.unit)
    WHERE u.unit <= 0 OR r.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c')
    GROUP BY 1"""
    )


def _parts(server_version: int) -> tuple[_Part, ...]:
    pg14 = server_version >= 140000
    pg18 = server_version >= 180000
    compression = "NULLIF(a.attcompression::text, '')" if pg14 else "NULL::text"
    multirange = "format_type(rg.rngmultitypid, NULL)" if pg14 else "NULL::text"
    if server_version >= 150000:
        publication_table_detail = """coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs)) || ')', '')
            || coalesce(' WHERE ' || pg_get_expr(pr.prqual, pr.prrelid), '')"""
        publication_schemas = """(SELECT json_agg(quote_ident(pn.nspname) ORDER BY pn.nspname)
            FROM pg_publication_namespace pp JOIN pg_namespace pn ON pn.oid = pp.pnnspid WHERE pp.pnpubid = b.oid)"""
    else:
        publication_table_detail = "''"
        publication_schemas = "NULL::json"
    if pg18:
        # PG 18 records NOT NULL as constraints; only a name other than the default one, NOT
        # VALID or NO INHERIT adds anything to attnotnull.
        not_null_join = """LEFT JOIN pg_constraint nn ON nn.conrelid = a.attrelid AND nn.contype = 'n'
                               AND nn.conkey[1] = a.attnum"""
        not_null_extra = """CASE WHEN nn.oid IS NOT NULL AND (nn.conname <> r.relname || '_' || a.attname || '_not_null'
                                   OR NOT nn.convalidated OR nn.connoinherit)
                              THEN quote_ident(nn.conname) || ' ' || pg_get_constraintdef(nn.oid) END"""
        not_null_constraints = "c.contype <> 'n'"
    else:
        not_null_join = ""
        not_null_extra = "NULL::text"
        not_null_constraints = "true"

    # Each part yields rows of object type, qualified name and attributes (see _part).
    parts = (
        # schemas
        _part(None, "'schema'", "quote_ident(n.nspname)", {
            "comment": _comment('n.oid', 'pg_namespace'),
            "privileges": _acl('n.nspacl', 'n', 'n.nspowner'),
        }, f"""
            FROM ns n WHERE {not_extension_member('pg_namespace', 'n.oid')}"""),
        # extensions
        _part(None, "'extension'", "quote_ident(x.extname)", {
            "version": "x.extversion",
            "schema": "quote_ident(xn.nspname)",
            "comment": _comment('x.oid', 'pg_extension'),
        }, """
            FROM pg_extension x JOIN pg_namespace xn ON xn.oid = x.extnamespace"""),
        # tables, partitioned tables, foreign tables
        _part('pg_class', "'table'", "r.qname", {
            "kind": "CASE r.relkind WHEN 'p' THEN 'partitioned' WHEN 'f' THEN 'foreign' END",
            "columns": """(SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped)""",
            "persistence": "CASE r.relpersistence WHEN 'u' THEN 'unlogged' END",
            "access_method": "am.amname",
            "options": _options('r.reloptions'),
            "tablespace": "ts.spcname",
            "row_security": "r.relrowsecurity",
            "force_row_security": "r.relforcerowsecurity",
            "replica_identity": """CASE r.relreplident WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full'
                WHEN 'i' THEN 'index' END""",
            "partition_key": "CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END",
            "partition_of": """CASE WHEN r.relispartition THEN (SELECT i.inhparent::regclass::text FROM pg_inherits i
                WHERE i.inhrelid = r.oid) END""",
            "partition_bound": "CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END",
            "inherits": """(SELECT json_agg(i.inhparent::regclass::text ORDER BY i.inhseqno) FROM pg_inherits i
                WHERE i.inhrelid = r.oid AND NOT r.relispartition)""",
            "of_type": "CASE WHEN r.reloftype <> 0 THEN format_type(r.reloftype, NULL) END",
            "foreign_server": """CASE WHEN r.relkind = 'f' THEN (SELECT quote_ident(s.srvname) FROM pg_foreign_table ft
                JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = r.oid) END""",
            "foreign_options": f"""CASE WHEN r.relkind = 'f' THEN (SELECT {_options('ft.ftoptions')} FROM pg_foreign_table ft
                WHERE ft.ftrelid = r.oid) END""",
            "comment": _comment('r.oid', 'pg_class'),
            "privileges": _acl('r.relacl', 'r', 'r.relowner'),
        }, """
            FROM rel r
            LEFT JOIN pg_am am ON am.oid = r.relam
            LEFT JOIN pg_tablespace ts ON ts.oid = r.reltablespace
            WHERE r.relkind IN ('r', 'p', 'f')"""),
        # columns of tables, views and materialized views
        _part('pg_class', "'column'", "r.qname || '.' || quote_ident(a.attname)", {
            "type": "format_type(a.atttypid, a.atttypmod)",
            "not_null": "a.attnotnull",
            "not_null_constraint": not_null_extra,
            # a default cannot name a column: deparsed without its table, which is not opened
            "default": "CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, 0) END",
            "generated": """CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid)
                || CASE a.attgenerated WHEN 's' THEN ' STORED' ELSE ' VIRTUAL' END END""",
            "identity": "CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END",
            "collation": """CASE WHEN a.attcollation <> t.typcollation THEN (
                SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = a.attcollation) END""",
            "storage": "CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END",
            "compression": compression,
            "statistics": "NULLIF(a.attstattarget, -1)",
            # less internal options some builds add
            "options": """CASE WHEN a.attoptions IS NOT NULL THEN (SELECT json_agg(o ORDER BY o) FROM unnest(a.attoptions) o
                WHERE o NOT LIKE 'pg\\_%') END""",
            "foreign_options": _options('a.attfdwoptions'),
            "local": "CASE WHEN a.attinhcount > 0 THEN a.attislocal END",
            "comment": _comment('a.attrelid', 'pg_class', 'a.attnum'),
            "privileges": _acl('a.attacl', 'c', 'r.relowner', default=False),
        }, f"""
            FROM rel r
            JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            {not_null_join}
            WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm')"""),
        # table constraints
        _part('pg_constraint', "'constraint'", "r.qname || '.' || quote_ident(c.conname)", {
            "type": """CASE c.contype WHEN 'c' THEN 'check' WHEN 'f' THEN 'foreign key'
                WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'x' THEN 'exclusion'
                WHEN 't' THEN 'trigger' ELSE c.contype::text END""",
            "definition": "CASE WHEN c.contype <> 't' THEN pg_get_constraintdef(c.oid) END",
            "validated": "c.convalidated",
            "deferrable": "c.condeferrable",
            "deferred": "c.condeferred",
            "local": "CASE WHEN c.coninhcount > 0 THEN c.conislocal END",
            "comment": _comment('c.oid', 'pg_constraint'),
        }, f"""
            FROM pg_constraint c JOIN rel r ON r.oid = c.conrelid
            WHERE c.oid >= {FIRST_USER_OID} AND {not_null_constraints}"""),
        # indexes, on tables and materialized views
        _part('pg_index.indexrelid', "'index'", "quote_ident(r.nspname) || '.' || quote_ident(ic.relname)", {
            "table": "r.qname",
            "definition": "pg_get_indexdef(i.indexrelid)",
            "valid": "i.indisvalid AND i.indisready",
            "unique": "i.indisunique",
            "primary": "i.indisprimary",
            "constraint": """CASE WHEN i.indisunique OR i.indisexclusion THEN (
                SELECT quote_ident(c.conname) FROM pg_constraint c
                WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) END""",
            "clustered": "i.indisclustered",
            "replica_identity": "i.indisreplident",
            "parent_index": """CASE WHEN ic.relispartition THEN (SELECT h.inhparent::regclass::text
                FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) END""",
            # only expression columns take a statistics target
            "statistics": """CASE WHEN i.indexprs IS NOT NULL THEN (
                SELECT json_agg(a.attnum || ': ' || a.attstattarget ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND NULLIF(a.attstattarget, -1) IS NOT NULL) END""",
            "tablespace": "ts.spcname",
            "comment": _comment('i.indexrelid', 'pg_class'),
        }, f"""
            FROM pg_index i JOIN rel r ON r.oid = i.indrelid
            JOIN pg_class ic ON ic.oid = i.indexrelid
            LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
            WHERE i.indexrelid >= {FIRST_USER_OID}"""),
        # sequences
        _part('pg_sequence.seqrelid', "'sequence'", "r.qname", {
            "type": "format_type(s.seqtypid, NULL)",
            "start": "s.seqstart",
            "increment": "s.seqincrement",
            "min": "s.seqmin",
            "max": "s.seqmax",
            "cache": "s.seqcache",
            "cycle": "s.seqcycle",
            "owned_by": """(SELECT d.refobjid::regclass::text || '.' || quote_ident(oa.attname) FROM pg_depend d
                JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
                WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))""",
            "identity": """EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                AND d.objid = r.oid AND d.deptype = 'i')""",
            "persistence": "CASE r.relpersistence WHEN 'u' THEN 'unlogged' END",
            "comment": _comment('r.oid', 'pg_class'),
            "privileges": _acl('r.relacl', 's', 'r.relowner'),
        }, """
            FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid
            WHERE r.relkind = 'S'"""),
        # views and materialized views
        _part('pg_rewrite', "CASE r.relkind WHEN 'v' THEN 'view' ELSE 'materialized-view' END", "r.qname", {
            "definition": "pg_get_viewdef(r.oid)",
            "options": _options('r.reloptions'),
            "access_method": "am.amname",
            "tablespace": "ts.spcname",
            "comment": _comment('r.oid', 'pg_class'),
            "privileges": _acl('r.relacl', 'r', 'r.relowner'),
        }, """
            FROM rel r
            LEFT JOIN pg_am am ON am.oid = r.relam
            LEFT JOIN pg_tablespace ts ON ts.oid = r.reltablespace
            WHERE r.relkind IN ('v', 'm')"""),
        # rules other than the ones that make views
        _part('pg_rewrite', "'rule'", "r.qname || '.' || quote_ident(w.rulename)", {
            "definition": "pg_get_ruledef(w.oid)",
            "enabled": "w.ev_enabled",
            "comment": _comment('w.oid', 'pg_rewrite'),
        }, f"""
            FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class
            WHERE w.oid >= {FIRST_USER_OID} AND w.rulename <> '_RETURN'"""),
        # functions and procedures
        _part('pg_proc', "CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END", """quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                || '(' || pg_get_function_identity_arguments(p.oid) || ')'""", {
            "definition": "pg_get_functiondef(p.oid)",
            "comment": _comment('p.oid', 'pg_proc'),
            "privileges": _acl('p.proacl', 'f', 'p.proowner'),
        }, f"""
            FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
            WHERE p.oid >= {FIRST_USER_OID} AND p.prokind <> 'a' AND {not_extension_member('pg_proc', 'p.oid')}"""),
        # aggregates
        _part('pg_aggregate.aggfnoid', "'aggregate'", """quote_ident(n.nspname) || '.' || quote_ident(p.proname)
                || '(' || pg_get_function_identity_arguments(p.oid) || ')'""", {
            "result": "pg_get_function_result(p.oid)",
            "kind": """CASE g.aggkind WHEN 'n' THEN 'normal' WHEN 'o' THEN 'ordered-set'
                WHEN 'h' THEN 'hypothetical-set' END""",
            "transition": "g.aggtransfn::oid::regprocedure::text",
            "state_type": "format_type(g.aggtranstype, NULL)",
            "initial": "g.agginitval",
            "final": "NULLIF(g.aggfinalfn::oid, 0)::regprocedure::text",
            "combine": "NULLIF(g.aggcombinefn::oid, 0)::regprocedure::text",
            "serial": "NULLIF(g.aggserialfn::oid, 0)::regprocedure::text",
            "deserial": "NULLIF(g.aggdeserialfn::oid, 0)::regprocedure::text",
            "moving": "NULLIF(g.aggmtransfn::oid, 0)::regprocedure::text",
            "sort_operator": "NULLIF(g.aggsortop, 0)::regoperator::text",
            "parallel": "p.proparallel",
            "strict": "p.proisstrict",
            "comment": _comment('p.oid', 'pg_proc'),
            "privileges": _acl('p.proacl', 'f', 'p.proowner'),
        }, f"""
            FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace JOIN pg_aggregate g ON g.aggfnoid = p.oid
            WHERE p.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_proc', 'p.oid')}"""),
        # triggers
        _part('pg_trigger', "'trigger'", "r.qname || '.' || quote_ident(t.tgname)", {
            "definition": "pg_get_triggerdef(t.oid)",
            "enabled": """CASE t.tgenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'
                WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END""",
            "comment": _comment('t.oid', 'pg_trigger'),
        }, f"""
            FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
            WHERE t.oid >= {FIRST_USER_OID} AND NOT t.tgisinternal"""),
        # event triggers
        _part('pg_event_trigger', "'event-trigger'", "quote_ident(v.evtname)", {
            "event": "v.evtevent",
            "function": "v.evtfoid::regprocedure::text",
            "tags": "(SELECT json_agg(tag ORDER BY tag) FROM unnest(v.evttags) tag)",
            "enabled": """CASE v.evtenabled WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled'
                WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END""",
            "comment": _comment('v.oid', 'pg_event_trigger'),
        }, f"""
            FROM pg_event_trigger v WHERE {not_extension_member('pg_event_trigger', 'v.oid')}"""),
        # types: enum, composite, range, base; domains
        _part('pg_type', "CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END", "quote_ident(n.nspname) || '.' || quote_ident(t.typname)", {
            "kind": """CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite'
                WHEN 'r' THEN 'range' WHEN 'b' THEN 'base' WHEN 'p' THEN 'pseudo' END""",
            "values": """CASE WHEN t.typtype = 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
                FROM pg_enum e WHERE e.enumtypid = t.oid) END""",
            "attributes": f"""CASE WHEN t.typtype = 'c' THEN (SELECT json_agg(
                    quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attcollation <> at.typcollation
                       THEN ' COLLATE ' || quote_ident(acn.nspname) || '.' || quote_ident(aco.collname) ELSE '' END
                    || coalesce(' -- ' || {_comment('a.attrelid', 'pg_class', 'a.attnum')}, '')
                    ORDER BY a.attnum)
                FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
                LEFT JOIN pg_collation aco ON aco.oid = a.attcollation
                LEFT JOIN pg_namespace acn ON acn.oid = aco.collnamespace
                WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END""",
            "base_type": "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END",
            "not_null": "CASE WHEN t.typtype = 'd' THEN t.typnotnull END",
            "default": "t.typdefault",
            "collation": """CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation
                THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END""",
            "subtype": "format_type(rg.rngsubtype, NULL)",
            "subtype_collation": "NULLIF(rg.rngcollation, 0)::regcollation::text",
            "subtype_operator_class": """(SELECT quote_ident(on_.nspname) || '.' || quote_ident(oc.opcname)
                FROM pg_opclass oc JOIN pg_namespace on_ ON on_.oid = oc.opcnamespace
                WHERE oc.oid = rg.rngsubopc)""",
            "canonical": "NULLIF(rg.rngcanonical::oid, 0)::regprocedure::text",
            "subtype_diff": "NULLIF(rg.rngsubdiff::oid, 0)::regprocedure::text",
            "multirange": multirange,
            "base": """CASE WHEN t.typtype = 'b' THEN json_strip_nulls(json_build_object(
                'input', t.typinput::oid::regprocedure::text, 'output', t.typoutput::oid::regprocedure::text,
                'receive', NULLIF(t.typreceive::oid, 0)::regprocedure::text,
                'send', NULLIF(t.typsend::oid, 0)::regprocedure::text,
                'length', t.typlen, 'by_value', t.typbyval, 'alignment', t.typalign,
                'storage', t.typstorage, 'category', t.typcategory, 'preferred', t.typispreferred,
                'delimiter', t.typdelim, 'element', NULLIF(t.typelem, 0)::regtype::text)) END""",
            "comment": _comment('t.oid', 'pg_type'),
            "privileges": _acl('t.typacl', 'T', 't.typowner'),
        }, f"""
            FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
            LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
            LEFT JOIN pg_range rg ON rg.rngtypid = t.oid
            LEFT JOIN pg_collation co ON co.oid = t.typcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            WHERE t.oid >= {FIRST_USER_OID} AND t.typtype IN ('e', 'c', 'd', 'r', 'b')
            AND (t.typtype <> 'c' OR (SELECT k.relkind FROM pg_class k WHERE k.oid = t.typrelid) = 'c')
            AND NOT (t.typtype = 'b' AND EXISTS (SELECT FROM pg_type el
                                                 WHERE el.oid = t.typelem AND el.typarray = t.oid))
            AND {not_extension_member('pg_type', 't.oid')}"""),
        # domain constraints
        _part('pg_constraint', "'domain-constraint'", "quote_ident(n.nspname) || '.' || quote_ident(t.typname) || '.' || quote_ident(c.conname)", {
            "definition": "pg_get_constraintdef(c.oid)",
            "validated": "c.convalidated",
            "comment": _comment('c.oid', 'pg_constraint'),
        }, f"""
            FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid
            JOIN ns n ON n.oid = t.typnamespace
            WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_type', 't.oid')}"""),
        # row-level security policies
        _part('pg_policy', "'policy'", "r.qname || '.' || quote_ident(p.polname)", {
            "command": """CASE p.polcmd WHEN '*' THEN 'ALL' WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
                WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' END""",
            "permissive": "p.polpermissive",
            "roles": """(SELECT json_agg(g ORDER BY g) FROM (
                SELECT CASE WHEN role = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(role)) END AS g
                FROM unnest(p.polroles) role) roles)""",
            "using": "pg_get_expr(p.polqual, p.polrelid)",
            "with_check": "pg_get_expr(p.polwithcheck, p.polrelid)",
            "comment": _comment('p.oid', 'pg_policy'),
        }, """
            FROM pg_policy p JOIN rel r ON r.oid = p.polrelid"""),
        # extended statistics
        _part('pg_statistic_ext', "'statistics'", "quote_ident(n.nspname) || '.' || quote_ident(s.stxname)", {
            "definition": "pg_get_statisticsobjdef(s.oid)",
            "target": "NULLIF(s.stxstattarget, -1)",
            "comment": _comment('s.oid', 'pg_statistic_ext'),
        }, """
            FROM pg_statistic_ext s JOIN ns n ON n.oid = s.stxnamespace
            JOIN rel r ON r.oid = s.stxrelid"""),
        # casts, as pg_dump finds them: made after initdb and not by an extension
        _part('pg_cast', "'cast'", "'(' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')'", {
            "function": "NULLIF(c.castfunc, 0)::regprocedure::text",
            "context": "c.castcontext",
            "method": "c.castmethod",
            "comment": _comment('c.oid', 'pg_cast'),
        }, f"""
            FROM pg_cast c WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_cast', 'c.oid')}"""),
        # operators
        _part('pg_operator', "'operator'", """quote_ident(n.nspname) || '.' || o.oprname || '('
                || coalesce(format_type(NULLIF(o.oprleft, 0), NULL), 'NONE') || ', '
                || coalesce(format_type(NULLIF(o.oprright, 0), NULL), 'NONE') || ')'""", {
            "function": "o.oprcode::oid::regprocedure::text",
            "result": "format_type(o.oprresult, NULL)",
            "commutator": "NULLIF(o.oprcom, 0)::regoperator::text",
            "negator": "NULLIF(o.oprnegate, 0)::regoperator::text",
            "restrict": "NULLIF(o.oprrest::oid, 0)::regprocedure::text",
            "join": "NULLIF(o.oprjoin::oid, 0)::regprocedure::text",
            "hashes": "o.oprcanhash",
            "merges": "o.oprcanmerge",
            "comment": _comment('o.oid', 'pg_operator'),
        }, f"""
            FROM pg_operator o JOIN ns n ON n.oid = o.oprnamespace
            WHERE o.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_operator', 'o.oid')}"""),
        # collations
        _part('pg_collation', "'collation'", "quote_ident(n.nspname) || '.' || quote_ident(c.collname)", {
            "provider": "c.collprovider",
            "deterministic": "c.collisdeterministic",
            "collate": "c.collcollate",
            "ctype": "c.collctype",
            "comment": _comment('c.oid', 'pg_collation'),
        }, f"""
            FROM pg_collation c JOIN ns n ON n.oid = c.collnamespace
            WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_collation', 'c.oid')}"""),
        # publications
        _part('pg_publication', "'publication'", "quote_ident(b.pubname)", {
            "all_tables": "b.puballtables",
            "operations": """concat_ws(',', CASE WHEN b.pubinsert THEN 'insert' END,
                CASE WHEN b.pubupdate THEN 'update' END, CASE WHEN b.pubdelete THEN 'delete' END,
                CASE WHEN b.pubtruncate THEN 'truncate' END)""",
            "via_root": "b.pubviaroot",
            "tables": f"""(SELECT json_agg(t ORDER BY t) FROM (
                SELECT pr.prrelid::regclass::text || {publication_table_detail} AS t
                FROM pg_publication_rel pr WHERE pr.prpubid = b.oid) tables)""",
            "schemas": publication_schemas,
            "comment": _comment('b.oid', 'pg_publication'),
        }, """
            FROM pg_publication b"""),
        # text search configurations, dictionaries, parsers and templates
        _part('pg_ts_config', "'text-search-configuration'", "quote_ident(n.nspname) || '.' || quote_ident(c.cfgname)", {
            "parser": """(SELECT quote_ident(pn.nspname) || '.' || quote_ident(p.prsname) FROM pg_ts_parser p
                JOIN pg_namespace pn ON pn.oid = p.prsnamespace WHERE p.oid = c.cfgparser)""",
            "mappings": """(SELECT json_agg(m.maptokentype || ': ' || m.mapdict::regdictionary::text
                ORDER BY m.maptokentype, m.mapseqno) FROM pg_ts_config_map m WHERE m.mapcfg = c.oid)""",
            "comment": _comment('c.oid', 'pg_ts_config'),
        }, f"""
            FROM pg_ts_config c JOIN ns n ON n.oid = c.cfgnamespace
            WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_ts_config', 'c.oid')}"""),
        _part('pg_ts_dict', "'text-search-dictionary'", "quote_ident(n.nspname) || '.' || quote_ident(d.dictname)", {
            "template": """(SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.tmplname) FROM pg_ts_template t
                JOIN pg_namespace tn ON tn.oid = t.tmplnamespace WHERE t.oid = d.dicttemplate)""",
            "options": "d.dictinitoption",
            "comment": _comment('d.oid', 'pg_ts_dict'),
        }, f"""
            FROM pg_ts_dict d JOIN ns n ON n.oid = d.dictnamespace
            WHERE d.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_ts_dict', 'd.oid')}"""),
        _part('pg_ts_parser', "'text-search-parser'", "quote_ident(n.nspname) || '.' || quote_ident(p.prsname)", {
            "functions": """concat_ws(', ', p.prsstart::oid::regprocedure, p.prstoken::oid::regprocedure,
                p.prsend::oid::regprocedure, NULLIF(p.prsheadline::oid, 0)::regprocedure,
                p.prslextype::oid::regprocedure)""",
            "comment": _comment('p.oid', 'pg_ts_parser'),
        }, f"""
            FROM pg_ts_parser p JOIN ns n ON n.oid = p.prsnamespace
            WHERE p.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_ts_parser', 'p.oid')}"""),
        _part('pg_ts_template', "'text-search-template'", "quote_ident(n.nspname) || '.' || quote_ident(t.tmplname)", {
            "functions": """concat_ws(', ', NULLIF(t.tmplinit::oid, 0)::regprocedure,
                t.tmpllexize::oid::regprocedure)""",
            "comment": _comment('t.oid', 'pg_ts_template'),
        }, f"""
            FROM pg_ts_template t JOIN ns n ON n.oid = t.tmplnamespace
            WHERE t.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_ts_template', 't.oid')}"""),
        # foreign-data wrappers, servers, user mappings (passwords left out)
        _part('pg_foreign_data_wrapper', "'foreign-data-wrapper'", "quote_ident(w.fdwname)", {
            "handler": "NULLIF(w.fdwhandler, 0)::regprocedure::text",
            "validator": "NULLIF(w.fdwvalidator, 0)::regprocedure::text",
            "options": _options('w.fdwoptions'),
            "comment": _comment('w.oid', 'pg_foreign_data_wrapper'),
            "privileges": _acl('w.fdwacl', 'F', 'w.fdwowner'),
        }, f"""
            FROM pg_foreign_data_wrapper w
            WHERE {not_extension_member('pg_foreign_data_wrapper', 'w.oid')}"""),
        _part('pg_foreign_server', "'foreign-server'", "quote_ident(v.srvname)", {
            "wrapper": "(SELECT quote_ident(w.fdwname) FROM pg_foreign_data_wrapper w WHERE w.oid = v.srvfdw)",
            "type": "v.srvtype",
            "version": "v.srvversion",
            "options": _options('v.srvoptions'),
            "comment": _comment('v.oid', 'pg_foreign_server'),
            "privileges": _acl('v.srvacl', 'S', 'v.srvowner'),
        }, f"""
            FROM pg_foreign_server v
            WHERE {not_extension_member('pg_foreign_server', 'v.oid')}"""),
        # through the pg_user_mappings view: the catalog is for superusers only (the view shows
        # the options of the mappings the role may see)
        _part('pg_user_mappings.umid', "'user-mapping'", """CASE WHEN u.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(u.usename) END
                || ' on ' || quote_ident(u.srvname)""", {
            "options": """(SELECT json_agg(o ORDER BY o) FROM (
                SELECT CASE WHEN split_part(option, '=', 1) ILIKE '%password%'
                       THEN split_part(option, '=', 1) || '=<hidden>' ELSE option END AS o
                FROM unnest(u.umoptions) option) options)""",
        }, """
            FROM pg_user_mappings u"""),
        # conversions, access methods, operator classes and families
        _part('pg_conversion', "'conversion'", "quote_ident(n.nspname) || '.' || quote_ident(c.conname)", {
            "from": "pg_encoding_to_char(c.conforencoding)",
            "to": "pg_encoding_to_char(c.contoencoding)",
            "function": "c.conproc::oid::regprocedure::text",
            "default": "c.condefault",
            "comment": _comment('c.oid', 'pg_conversion'),
        }, f"""
            FROM pg_conversion c JOIN ns n ON n.oid = c.connamespace
            WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_conversion', 'c.oid')}"""),
        _part('pg_am', "'access-method'", "quote_ident(a.amname)", {
            "type": "a.amtype",
            "handler": "a.amhandler::oid::regprocedure::text",
            "comment": _comment('a.oid', 'pg_am'),
        }, f"""
            FROM pg_am a WHERE a.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_am', 'a.oid')}"""),
        _part('pg_opclass', "'operator-class'", """quote_ident(n.nspname) || '.' || quote_ident(c.opcname)
                || ' using ' || quote_ident(am.amname)""", {
            "type": "format_type(c.opcintype, NULL)",
            "default": "c.opcdefault",
            "family": """(SELECT quote_ident(fn.nspname) || '.' || quote_ident(f.opfname) FROM pg_opfamily f
                JOIN pg_namespace fn ON fn.oid = f.opfnamespace WHERE f.oid = c.opcfamily)""",
            "storage": "NULLIF(c.opckeytype, 0)::regtype::text",
            "comment": _comment('c.oid', 'pg_opclass'),
        }, f"""
            FROM pg_opclass c JOIN ns n ON n.oid = c.opcnamespace JOIN pg_am am ON am.oid = c.opcmethod
            WHERE c.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_opclass', 'c.oid')}"""),
        _part('pg_opfamily', "'operator-family'", """quote_ident(n.nspname) || '.' || quote_ident(f.opfname)
                || ' using ' || quote_ident(am.amname)""", {
            "operators": """(SELECT json_agg(m ORDER BY m) FROM (
                SELECT o.amopstrategy || ' ' || o.amopopr::regoperator::text
                       || CASE o.amoppurpose WHEN 'o' THEN ' FOR ORDER BY ' || o.amopsortfamily::text ELSE '' END AS m
                FROM pg_amop o WHERE o.amopfamily = f.oid) members)""",
            "functions": """(SELECT json_agg(m ORDER BY m) FROM (
                SELECT p.amprocnum || ' (' || format_type(p.amproclefttype, NULL) || ', '
                       || format_type(p.amprocrighttype, NULL) || ') ' || p.amproc::oid::regprocedure::text AS m
                FROM pg_amproc p WHERE p.amprocfamily = f.oid) members)""",
            "comment": _comment('f.oid', 'pg_opfamily'),
        }, f"""
            FROM pg_opfamily f JOIN ns n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
            WHERE f.oid >= {FIRST_USER_OID} AND {not_extension_member('pg_opfamily', 'f.oid')}"""),
        # default privileges (ALTER DEFAULT PRIVILEGES)
        _part('pg_default_acl', "'default-privileges'", """CASE WHEN da.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)
                     THEN '<current user>' ELSE quote_ident(pg_get_userbyid(da.defaclrole)) END
                || coalesce(' in ' || quote_ident(dn.nspname), '')
                || ' on ' || CASE da.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                             WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
                             ELSE da.defaclobjtype::text END""", {
            "privileges": _acl('da.defaclacl', 'r', 'da.defaclrole', default=False),
        }, """
            FROM pg_default_acl da LEFT JOIN pg_namespace dn ON dn.oid = da.defaclnamespace"""),

    )
    return parts


def _part(gate: str | None, object_type: str, name: str, attributes: dict[str, str], source: str) -> _Part:
    """The query ``SELECT cluster, identity, object_type, name, attribute... source`` of one kind of objects.

    ``cluster`` is the oid of the relation the object hangs on (NULL for objects that do not);
    ``identity`` names the object by oid, so that a rename shows as the same identity under a
    new name (see :class:`SnapshotCache`). Attributes come as plain columns, not as a JSON
    object built by the server for each object (which costs more than computing them);
    :func:`take_snapshot` names them.
    """
    kind = re.findall(r"'([\w-]+)'", object_type)[-1]
    cluster = kind in _CLUSTER_KINDS
    alias = re.search(r"FROM\s+\w+\s+(\w+)", source)
    assert alias is not None, source
    identity = _IDENTITIES.get(kind, f"{alias.group(1)}.oid")
    select = ",\n                ".join(
        ["r.oid" if cluster else "NULL::oid", f"({identity})::text", object_type, name, *attributes.values()]
    )
    packed = ", ".join(
        ["r.oid" if cluster else "NULL::oid", f"({identity})::text", f"({object_type})::text", f"({name})::text",
         f"json_build_array({', '.join(attributes.values())})"]
    )  # fmt: skip
    return _Part(
        _with_context(f"SELECT {select}{source}"), gate=gate, kind=kind, attributes=tuple(attributes), cluster=cluster,
        packed=f"SELECT {packed}{source}",
    )  # fmt: skip


# The kinds of objects that hang on a relation (alias ``r`` in their query): they are read again
# only for the relations whose catalog rows changed.
_CLUSTER_KINDS = frozenset(
    {"table", "column", "constraint", "index", "sequence", "materialized-view", "rule", "trigger", "policy"}
)
# The identity of an object, where it is not the oid of the first catalog its query reads.
_IDENTITIES = {"column": "r.oid::text || '.' || a.attnum", "index": "i.indexrelid", "user-mapping": "u.umid"}


@functools.cache
def _versions_and_relations(server_version: int) -> CatalogQuery:
    """One statement of what a :class:`~._cache.SnapshotCache` reads first: every version (the
    rows of :attr:`_Queries.relation_versions`, as part -1: ``(-1, NULL, oid, version, NULL,
    NULL)``) and the relation parts, as :func:`_together` reads them, of the relations whose
    version is not among the known ones, the (oid, version) pairs in $3 and $4. One round trip,
    where reading the versions, then what changed, takes two."""
    queries = _queries(server_version)
    relation_parts = tuple(part for part in queries.parts if part.cluster)
    union = "\n    UNION ALL ".join(
        f"SELECT {index}, * FROM ({part.packed}) p{index}" for index, part in enumerate(relation_parts)
    )
    changed = """changed (oids) AS MATERIALIZED (
        SELECT coalesce(array_agg(v.oid::oid), '{}') FROM versions v
        LEFT JOIN unnest($3::int8[], $4::text[]) k (oid, version) ON k.oid = v.oid AND k.version = v.version
        WHERE v.oid > 0 AND k.oid IS NULL
    ),"""
    statement = _with_context(
        f"SELECT -1, NULL::oid, v.oid::text, v.version, NULL::text, NULL::json FROM versions v\n    UNION ALL {union}",
        relations="(SELECT oids FROM changed)::oid[]", first=f"versions AS MATERIALIZED ({queries.relation_versions.query}\n    ), {changed}",
    )
    return CatalogQuery(statement, "(text[], text[], int8[], text[])")


def _with_context(part: str, *, relations: str = "$3::oid[]", first: str = "") -> str:
    """A part as a statement: the names it may use defined (``first``, a CTE before them;
    ``relations``, the relations the parts that hang on one read, NULL for all)."""
    return f"""
    WITH {first} ns AS (
        SELECT n.oid, n.nspname, n.nspacl, n.nspowner FROM pg_namespace n
        WHERE {user_schema('n.nspname')}
          AND n.nspname <> ALL ($1)
    ),
    excluded_table AS (
        SELECT c.oid FROM pg_class c JOIN pg_namespace cn ON cn.oid = c.relnamespace
        WHERE cardinality($2) > 0  -- a one-time filter: no scan when nothing is excluded
          AND c.oid >= {FIRST_USER_OID} AND cn.nspname || '.' || c.relname = ANY ($2)
    ),
    rel AS (
        SELECT c.*, n.nspname, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname
        FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
        WHERE c.oid >= {FIRST_USER_OID} AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
          AND ({relations} IS NULL OR cardinality({relations}) > 0)  -- a one-time filter: no scan for no relations
          AND ({relations} IS NULL OR c.oid = ANY ({relations}))
          AND c.oid NOT IN (SELECT oid FROM excluded_table)
          AND {not_extension_member('pg_class', 'c.oid')}
          AND (cardinality($2) = 0  -- then nothing depends on an excluded table
               OR NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                              AND d.objid = c.oid AND d.deptype IN ('a', 'i')
                              AND d.refobjid IN (SELECT oid FROM excluded_table)))
    )
    {part}
    """


def _arguments(exclusions: tuple[tuple[str, ...], tuple[str, ...]], relations: Sequence[int] | None) -> sql.Composable:
    schemas, tables = exclusions
    return sql.SQL(f"({text_array(schemas)}, {text_array(tables)}, {text_array(relations)}::oid[])")


def _attributes(part: _Part, values: Sequence[Any]) -> dict[str, Any]:
    # a missing attribute and a NULL one compare equal, and snapshots stay small
    return {attribute: value for attribute, value in zip(part.attributes, values) if value is not None}

