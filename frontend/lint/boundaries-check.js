// Proof that the layering rule bites: lints planted files against the project's own
// eslint.config.js and fails when a forbidden import passes, or an allowed one is flagged.
// Run by `npm run lint` after ESLint itself, so the rule cannot silently stop applying.
import { ESLint } from 'eslint';

const RULE = 'boundaries/dependencies';

const cases = [
  {
    name: 'a feature importing another feature',
    filePath: 'src/features/health/planted.ts',
    code: "import { useMe } from '@/features/auth/api/get-me';\nexport const planted = useMe;\n",
    forbidden: true,
  },
  {
    name: 'shared code importing a feature',
    filePath: 'src/lib/planted.ts',
    code: "import { useMe } from '@/features/auth/api/get-me';\nexport const planted = useMe;\n",
    forbidden: true,
  },
  {
    name: 'a feature importing the app',
    filePath: 'src/features/health/planted.ts',
    code: "import { routes } from '@/app/routes';\nexport const planted = routes;\n",
    forbidden: true,
  },
  {
    name: 'a lower shared layer importing a higher one',
    filePath: 'src/lib/planted.ts',
    code: "import { Loading } from '@/components/ui/loading';\nexport const planted = Loading;\n",
    forbidden: true,
  },
  {
    name: 'app code importing the test helpers',
    filePath: 'src/features/health/planted.ts',
    code: "import { clinician } from '@/testing/fixtures';\nexport const planted = clinician;\n",
    forbidden: true,
  },
  {
    name: 'a test importing the test helpers',
    filePath: 'src/features/health/planted.test.ts',
    code: "import { clinician } from '@/testing/fixtures';\nexport const planted = clinician;\n",
    forbidden: false,
  },
  {
    name: 'a feature importing itself and shared code',
    filePath: 'src/features/health/planted.ts',
    code:
      "import { useHealth } from '@/features/health/api/get-health';\n" +
      "import { api } from '@/lib/api-client';\n" +
      'export const planted = [useHealth, api];\n',
    forbidden: false,
  },
  {
    name: 'a route composing two features',
    filePath: 'src/app/routes/planted.ts',
    code:
      "import { useMe } from '@/features/auth/api/get-me';\n" +
      "import { useHealth } from '@/features/health/api/get-health';\n" +
      'export const planted = [useMe, useHealth];\n',
    forbidden: false,
  },
];

const eslint = new ESLint();
let failures = 0;
for (const { name, filePath, code, forbidden } of cases) {
  const [result] = await eslint.lintText(code, { filePath });
  const flagged = result.messages.filter((message) => message.ruleId === RULE);
  const fatal = result.messages.filter((message) => message.fatal || message.ruleId === null);
  const ok = fatal.length === 0 && (forbidden ? flagged.length > 0 : flagged.length === 0);
  if (!ok) failures += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (${filePath}): ${flagged.length} ${RULE} error(s)`);
  for (const message of [...flagged, ...fatal]) console.log(`       ${message.line}:${message.column} ${message.message}`);
}
if (failures > 0) {
  console.error(`${failures} layering check(s) failed: the ${RULE} rule lets a forbidden import pass or flags an allowed one`);
  process.exit(1);
}
