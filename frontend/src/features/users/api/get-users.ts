import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { Paginated, User } from '@/types/api';

export const usersQueryOptions = (page: number) =>
  queryOptions({
    queryKey: ['users', page],
    queryFn: ({ signal }) => api.get<Paginated<User>>('/api/users/', { params: { page }, signal }),
    placeholderData: keepPreviousData,
  });

export function useUsers(page: number) {
  return useQuery(usersQueryOptions(page));
}
