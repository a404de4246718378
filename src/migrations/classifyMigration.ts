// Reads a migration with PostgreSQL's own parser (libpg-query) and says, statement by statement,
// which ones lose data or break the running version: those need a person's approval.
import { parse } from 'libpg-query';

export interface ClassifiedStatement {
  sql: string;
  /** Why it is destructive; absent for a safe statement. */
  destructive?: string;
}

type Node = Record<string, unknown>;

export async function classifyMigration(sql: string): Promise<ClassifiedStatement[]> {
  const tree = await parse(sql);
  // Statement locations are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(sql, 'utf8');
  return (tree.stmts ?? []).map((raw) => {
    const s = raw as { stmt?: Node; stmt_location?: number; stmt_len?: number };
    const start = s.stmt_location ?? 0;
    const text = bytes
      .subarray(start, s.stmt_len ? start + s.stmt_len : undefined)
      .toString('utf8')
      .trim();
    const reason = s.stmt ? destructiveReason(s.stmt) : undefined;
    return reason ? { sql: text, destructive: reason } : { sql: text };
  });
}

function destructiveReason(stmt: Node): string | undefined {
  const [kind, body] = Object.entries(stmt)[0] as [string, Node];
  switch (kind) {
    case 'DropStmt':
      return `drops ${objectKind(body.removeType)} ${names(body.objects)}`;
    case 'TruncateStmt':
      return `truncates ${((body.relations as Node[]) ?? []).map((r) => relname(r.RangeVar as Node)).join(', ')}`;
    case 'RenameStmt':
      return `renames ${objectKind(body.renameType)} ${body.subname ? `${relname(body.relation as Node)}.${String(body.subname)}` : relname(body.relation as Node) || names([body.object])} to ${String(body.newname)} (the running version still uses the old name)`;
    case 'DeleteStmt':
      return body.whereClause ? undefined : `deletes every row of ${relname(body.relation as Node)} (no WHERE)`;
    case 'UpdateStmt':
      return body.whereClause ? undefined : `updates every row of ${relname(body.relation as Node)} (no WHERE)`;
    case 'AlterTableStmt':
      return alterTableReason(body);
    default:
      return undefined;
  }
}

function alterTableReason(body: Node): string | undefined {
  const table = relname(body.relation as Node);
  const reasons: string[] = [];
  for (const c of (body.cmds as Node[]) ?? []) {
    const cmd = c.AlterTableCmd as Node;
    const subtype = String(cmd.subtype);
    const column = cmd.name ? `${table}.${String(cmd.name)}` : table;
    if (subtype === 'AT_DropColumn') reasons.push(`drops column ${column}`);
    else if (subtype.startsWith('AT_Drop') && subtype !== 'AT_DropNotNull') {
      const what = subtype
        .slice('AT_Drop'.length)
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toLowerCase();
      reasons.push(`drops ${what}${cmd.name ? ` ${String(cmd.name)}` : ''} on ${table}`);
    } else if (subtype === 'AT_AlterColumnType')
      reasons.push(`changes the type of ${column} (may narrow or rewrite its data)`);
    else if (subtype === 'AT_SetNotNull')
      reasons.push(`makes ${column} NOT NULL (fails on existing NULLs, and the running version may write them)`);
    else if (subtype === 'AT_AddColumn') {
      const def = (cmd.def as Node)?.ColumnDef as Node | undefined;
      const constraints = ((def?.constraints as Node[]) ?? []).map((k) => String((k.Constraint as Node).contype));
      if (
        constraints.includes('CONSTR_NOTNULL') &&
        !constraints.includes('CONSTR_DEFAULT') &&
        !constraints.includes('CONSTR_IDENTITY') &&
        !constraints.includes('CONSTR_GENERATED')
      ) {
        reasons.push(
          `adds NOT NULL column ${table}.${String(def?.colname)} without a default (the running version cannot insert)`,
        );
      }
    }
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

function relname(r: Node | undefined): string {
  if (!r) return '';
  return [r.schemaname, r.relname].filter(Boolean).join('.');
}

function objectKind(type: unknown): string {
  return String(type ?? '')
    .replace(/^OBJECT_/, '')
    .replace(/_/g, ' ')
    .toLowerCase();
}

function names(objects: unknown): string {
  const list = (objects as Node[] | undefined) ?? [];
  return list
    .map((o) => {
      const items = ((o?.List as Node | undefined)?.items as Node[] | undefined) ?? (o?.String ? [o] : []);
      return items.map((i) => String((i.String as Node | undefined)?.sval ?? '')).join('.');
    })
    .filter(Boolean)
    .join(', ');
}
