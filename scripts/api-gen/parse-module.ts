// Reads a +server.ts with the TypeScript parser only (no type checker): handlers, kinds, docs, Query/Body.
import ts from 'typescript';

/** HTTP methods the generator knows, in the order it emits them. */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** One of METHODS. */
export type Method = (typeof METHODS)[number];

/** What a handler's response carries, from the helper it returns. */
export type Kind = 'events' | 'json' | 'records' | 'file' | 'text';

const HELPERS: Record<string, Kind> = { sse: 'events', json: 'json', ndjson: 'records', file: 'file', text: 'text' };

/** A handler the generator understood. */
export interface Handler {
	method: Method;
	kind: Kind;
	/** The handler's JSDoc text on one line ('' when it has none). */
	doc: string;
	/** The `@client <name>` override, if any. */
	client?: string;
}

/** A declared `Query` or `Body` type. */
export interface Shape {
	/** True when every member is optional, so the argument may be left out. */
	optional: boolean;
}

/** What a route module declares. */
export interface RouteModule {
	handlers: Handler[];
	query?: Shape;
	body?: Shape;
	/** Handlers skipped and why. */
	warnings: string[];
}

/** Parses `source`; handlers it cannot type are left out with a warning. */
export function parseModule(source: string, fileName: string): RouteModule {
	const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
	const module: RouteModule = { handlers: [], warnings: [] };
	for (const statement of file.statements) {
		if (!isExported(statement)) continue;
		if (ts.isVariableStatement(statement)) {
			for (const declaration of statement.declarationList.declarations) {
				const name = ts.isIdentifier(declaration.name) ? declaration.name.text : '';
				if (!isMethod(name)) continue;
				if (declaration.type) {
					module.warnings.push(`${name} is annotated with a type, which hides the response brand: write \`export const ${name} = (async (event) => …) satisfies RequestHandler\``);
					continue;
				}
				addHandler(module, name, functionOf(declaration.initializer), declaration);
			}
		} else if (ts.isFunctionDeclaration(statement) && statement.name && isMethod(statement.name.text)) {
			addHandler(module, statement.name.text, statement, statement);
		} else if (ts.isTypeAliasDeclaration(statement) || ts.isInterfaceDeclaration(statement)) {
			const name = statement.name.text;
			if (name !== 'Query' && name !== 'Body') continue;
			if (ts.isInterfaceDeclaration(statement) && name === 'Query') {
				module.warnings.push('Query is an interface: declare it with `type` so it fits the query parameter record');
			}
			const members = ts.isInterfaceDeclaration(statement) ? statement.members : typeLiteralMembers(statement.type);
			const optional = members !== undefined && members.every((member) => member.questionToken !== undefined);
			module[name === 'Query' ? 'query' : 'body'] = { optional };
		}
	}
	module.handlers.sort((a, b) => METHODS.indexOf(a.method) - METHODS.indexOf(b.method));
	return module;
}

function addHandler(module: RouteModule, method: Method, fn: ts.FunctionLikeDeclaration | undefined, node: ts.Node) {
	if (!fn?.body) {
		module.warnings.push(`${method} is not a function expression the generator can read`);
		return;
	}
	const found = new Set(returnedExpressions(fn.body).flatMap(endingsOf));
	const helper = [...found][0]?.replace(/\(\)$/, '') ?? '';
	if (found.size !== 1 || !Object.hasOwn(HELPERS, helper)) {
		const list = [...found].join(', ') || 'nothing';
		module.warnings.push(`${method} returns ${list}: return exactly one of sse(), json(), ndjson(), file(), text() (errors: throw, e.g. inside handleErrors())`);
		return;
	}
	const { doc, client } = jsDocOf(node);
	module.handlers.push({ method, kind: HELPERS[helper], doc, ...(client ? { client } : {}) });
}

/** How each branch of a returned expression ends: `sse()`, `Response.json()`, `new Response()`, … */
function endingsOf(expression: ts.Expression): string[] {
	const inner = unwrap(expression);
	if (ts.isConditionalExpression(inner)) return [...endingsOf(inner.whenTrue), ...endingsOf(inner.whenFalse)];
	if (ts.isCallExpression(inner)) {
		const callee = inner.expression.getText();
		// A wrapper such as handleErrors(async () => json(…)) ends the way its inline function does.
		const wrapped = ts.isIdentifier(inner.expression) && Object.hasOwn(HELPERS, callee) ? [] : inner.arguments.filter(isInlineFunction);
		if (wrapped.length === 0) return [`${callee}()`];
		return wrapped.flatMap((fn) => returnedExpressions(fn.body).flatMap(endingsOf));
	}
	if (ts.isNewExpression(inner)) return [`new ${inner.expression.getText()}()`];
	return [inner.getText().slice(0, 40)];
}

function returnedExpressions(body: ts.ConciseBody): ts.Expression[] {
	if (!ts.isBlock(body)) return [body];
	const found: ts.Expression[] = [];
	const visit = (node: ts.Node): void => {
		if (ts.isReturnStatement(node) && node.expression) found.push(node.expression);
		if (!ts.isFunctionLike(node)) ts.forEachChild(node, visit);
	};
	ts.forEachChild(body, visit);
	return found;
}

function isInlineFunction(node: ts.Expression): node is ts.ArrowFunction | ts.FunctionExpression {
	return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

function functionOf(initializer: ts.Expression | undefined): ts.FunctionLikeDeclaration | undefined {
	const inner = initializer && unwrap(initializer);
	return inner && isInlineFunction(inner) ? inner : undefined;
}

function unwrap(expression: ts.Expression): ts.Expression {
	let node = expression;
	while (
		ts.isParenthesizedExpression(node) ||
		ts.isAwaitExpression(node) ||
		ts.isAsExpression(node) ||
		ts.isSatisfiesExpression(node) ||
		ts.isNonNullExpression(node) ||
		ts.isTypeAssertionExpression(node)
	) {
		node = node.expression;
	}
	return node;
}

function jsDocOf(node: ts.Node): { doc: string; client?: string } {
	const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
	const last = docs.at(-1);
	if (!last) return { doc: '' };
	const doc = (ts.getTextOfJSDocComment(last.comment) ?? '').replace(/\s+/g, ' ').trim();
	const tag = last.tags?.find((t) => t.tagName.text === 'client');
	const client = tag && (ts.getTextOfJSDocComment(tag.comment) ?? '').trim();
	return { doc, client };
}

function typeLiteralMembers(type: ts.TypeNode): ts.NodeArray<ts.TypeElement> | undefined {
	return ts.isTypeLiteralNode(type) ? type.members : undefined;
}

function isExported(statement: ts.Statement): boolean {
	return ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

function isMethod(name: string): name is Method {
	return (METHODS as readonly string[]).includes(name);
}
