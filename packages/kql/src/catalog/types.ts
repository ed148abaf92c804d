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
}

export interface SignatureDef {
  readonly returnKind: ReturnTypeKind;
  /** For `Declared`: the scalar type, or `table` schema text `(a:long, ...)` for tabular returns. */
  readonly returnType?: ScalarTypeName | string;
  /** For `Custom` (and `Computed` with a body): a key into the custom return-type table. */
  readonly customReturn?: string;
  /** For user/stored functions or `Computed`: the body text. */
  readonly body?: string;
  readonly params: readonly ParamDef[];
  readonly tabularity: 'Scalar' | 'Tabular' | 'Unknown' | 'None';
  readonly isHidden?: boolean;
}

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
}
