/**
 * Functions, aggregates and plugins are declared as data (name, signatures, return-type rule, result naming,
 * determinism), never as code paths in the binder. The enums mirror Kusto.Language's symbol model
 * (Microsoft's Kusto.Language, MIT), from whose published symbol tables the generated catalog was seeded.
 */
import type { ScalarTypeName } from '../binder/types.js';

/** How a parameter constrains its argument's type (Kusto.Language `ParameterTypeKind`). */
export type ParamTypeKind =
  | 'Any'
  | 'Declared'
  | 'Scalar'
  | 'Tabular'
  | 'Database'
  | 'Cluster'
  | 'Integer'
  | 'RealOrDecimal'
  | 'StringOrDynamic'
  | 'StringOrArray'
  | 'IntegerOrArray'
  | 'DynamicArray'
  | 'DynamicBag'
  | 'Number'
  | 'NumberOrBool'
  | 'Summable'
  | 'Orderable'
  | 'NotRealOrBool'
  | 'NotDynamic'
  | 'NotBool'
  | 'Parameter0'
  | 'Parameter1'
  | 'Parameter2'
  | 'CommonScalar'
  | 'CommonNumber'
  | 'CommonSummable'
  | 'CommonOrderable'
  | 'CommonScalarOrDynamic';

/** What form an argument must take (Kusto.Language `ArgumentKind`). */
export type ArgumentKind =
  | 'Expression'
  | 'Expression_Parameter0_Element'
  | 'StarOnly'
  | 'StarAllowed'
  | 'Aggregate'
  | 'Column'
  | 'Column_Parameter0'
  | 'Column_Parameter0_Common'
  | 'Literal'
  | 'LiteralNotEmpty'
  | 'Constant';

/** How the return type is computed (Kusto.Language `ReturnTypeKind`). */
export type ReturnTypeKind =
  | 'Declared'
  | 'Computed'
  | 'Custom'
  | 'Parameter0'
  | 'Parameter1'
  | 'Parameter2'
  | 'ParameterN'
  | 'Parameter0Literal'
  | 'Parameter1Literal'
  | 'ParameterNLiteral'
  | 'Parameter0Promoted'
  | 'Parameter0Cluster'
  | 'Parameter0Database'
  | 'Parameter0Table'
  | 'Parameter0ExternalTable'
  | 'Parameter0Array'
  | 'Common'
  | 'CommonNonDynamic'
  | 'Widest'
  | 'Parameter0MaterializedView'
  | 'Parameter0EntityGroup'
  | 'Parameter0StoredQueryResult'
  | 'Parameter0Graph';

/** How the default result column name is derived (Kusto.Language `ResultNameKind`). */
export type ResultNameKind =
  | 'None'
  | 'NameAndFirstArgument'
  | 'NameAndOnlyArgument'
  | 'PrefixAndFirstArgument'
  | 'PrefixAndOnlyArgument'
  | 'FirstArgumentValueIfColumn'
  | 'PrefixOnly'
  | 'FirstArgument'
  | 'OnlyArgument'
  | 'Default';

export interface ParamDef {
  readonly name: string;
  readonly typeKind: ParamTypeKind;
  /** For `Declared`: the allowed scalar types; `tabular` true when the declared type is a table. */
  readonly types?: readonly ScalarTypeName[];
  readonly argumentKind: ArgumentKind;
  readonly minOccurring: number;
  readonly maxOccurring: number;
  /** Allowed literal values (e.g. `bin_at` has none; `format_datetime` none; `strcmp` none; plugin kinds do). */
  readonly values?: readonly string[];
  readonly isCaseSensitive?: boolean;
  /** Default value text when optional, if declared. */
  readonly defaultValue?: string;
  /** The parameter takes a `typeof(...)` literal (Kusto's `type` pseudo-type), e.g. `extract(..., typeof(long))`. */
  readonly typeLiteral?: boolean;
  /** A string literal that stands for "use the default" (`~` in `autocluster`, `basket`, `diffpatterns`). */
  readonly defaultValueIndicator?: string;
}

/**
 * How arguments are associated with parameters (Kusto.Language `ParameterLayouts`): `Fixed` one-to-one, optional
 * trailing parameters; `Repeating` a parameter may repeat, moving on by type match; `RepeatingSkipping` the same but
 * optional parameters may be skipped; `BlockRepeating` a group of parameters repeats together (`case`, `bag_pack`);
 * `Custom` a per-function rule (see `resolve.ts`).
 */
export type ParameterLayoutKind = 'Fixed' | 'Repeating' | 'RepeatingSkipping' | 'BlockRepeating' | 'Custom';

export interface SignatureDef {
  readonly returnKind: ReturnTypeKind;
  /** For `Declared`: the scalar type, or `table` schema text `(a:long, ...)` for tabular returns. */
  readonly returnType?: ScalarTypeName | string;
  /** For a declared `dynamic` return: whether Kusto types it as an array or a property bag. */
  readonly returnShape?: DynamicShape;
  /** For `Custom` (and `Computed` with a body): a key into the custom return-type table. */
  readonly customReturn?: string;
  /** For user/stored functions or `Computed`: the body text. */
  readonly body?: string;
  readonly params: readonly ParamDef[];
  readonly tabularity: 'Scalar' | 'Tabular' | 'Unknown' | 'None' | 'Other';
  readonly isHidden?: boolean;
  /** Argument-to-parameter association; `Fixed` when absent (`Repeating` if a parameter repeats). */
  readonly layout?: ParameterLayoutKind;
  /** This overload is obsolete (e.g. `count(predicate)`), `alternative` names the replacement. */
  readonly isObsolete?: boolean;
  readonly alternative?: string;
}

/**
 * What Kusto knows of a dynamic value's shape (its typed dynamics): an array, a property bag, or a single value
 * (`dynamic(1)`). Parameters of kind `DynamicArray` reject bags and values, `DynamicBag` arrays and values.
 */
export type { DynamicShape } from '../binder/types.js';

import type { DynamicShape } from '../binder/types.js';

export type FunctionKind = 'scalar' | 'aggregate' | 'plugin' | 'special';

export interface FunctionDef {
  readonly name: string;
  readonly kind: FunctionKind;
  readonly signatures: readonly SignatureDef[];
  readonly resultNameKind: ResultNameKind;
  readonly resultNamePrefix?: string;
  readonly isHidden?: boolean;
  readonly isObsolete?: boolean;
  readonly alternative?: string;
  /** False for `rand()`, `now()`, `new_guid()`, ...: never constant-folded or cached. */
  readonly deterministic: boolean;
  readonly isConstantFoldable?: boolean;
  readonly description?: string;
  /** `graph`: only callable inside graph-match / graph-shortest-paths clauses (`all`, `any`, `map`, `node_id`, ...). */
  readonly availability?: 'graph';
  /**
   * A user-defined function (`let f = (...) {...}` or a stored function): named arguments are allowed and scalar
   * arguments are implicitly coerced to declared parameter types, as Kusto does for non-built-in functions.
   */
  readonly isUserDefined?: boolean;
}
