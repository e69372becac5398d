// Type-checks files that exist only in memory (generated helpers, usage samples) against the project.
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** A file to check, by absolute path, that need not exist on disk. */
export interface VirtualFile {
	path: string;
	content: string;
}

/**
 * Strict `tsc --noEmit` over `files` and everything they import, `$lib` mapped to `<root>/src/lib`;
 * returns the diagnostics as `path:line: message`.
 */
export function typecheck(root: string, files: VirtualFile[]): string[] {
	const virtual = new Map(files.map((file) => [resolve(file.path), file.content]));
	const options: ts.CompilerOptions = {
		strict: true,
		noEmit: true,
		target: ts.ScriptTarget.ES2022,
		module: ts.ModuleKind.ESNext,
		moduleResolution: ts.ModuleResolutionKind.Bundler,
		lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
		types: ['node'],
		verbatimModuleSyntax: true,
		isolatedModules: true,
		skipLibCheck: true,
		baseUrl: root,
		paths: { $lib: ['src/lib'], '$lib/*': ['src/lib/*'] }
	};
	const host = ts.createCompilerHost(options);
	const { fileExists, readFile, getSourceFile } = host;
	const dirs = new Set([...virtual.keys()].map((path) => dirname(path)));
	host.directoryExists = (path) => dirs.has(resolve(path)) || ts.sys.directoryExists(path);
	host.fileExists = (path) => virtual.has(resolve(path)) || fileExists(path);
	host.readFile = (path) => virtual.get(resolve(path)) ?? readFile(path);
	host.getSourceFile = (path, language, ...rest) => {
		const content = virtual.get(resolve(path));
		return content === undefined ? getSourceFile(path, language, ...rest) : ts.createSourceFile(path, content, language, true);
	};
	// Rune declarations ($state, …) are globals in svelte's types.
	const runes = resolve(root, 'node_modules/svelte/types/index.d.ts');
	const program = ts.createProgram([...virtual.keys(), runes], options, host);
	return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
		const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
		if (!diagnostic.file || diagnostic.start === undefined) return message;
		const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
		return `${diagnostic.file.fileName}:${line + 1}: ${message}`;
	});
}
