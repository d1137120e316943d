import { Link } from 'react-router';

import { paths } from '@/config/paths';

export function NotFoundRoute() {
  return (
    <div>
      <h1>Page not found</h1>
      <p>
        <Link to={paths.studies}>Go to my studies</Link>
      </p>
    </div>
  );
}
