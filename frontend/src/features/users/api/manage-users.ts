import { useMutation, useQueryClient } from '@tanstack/react-query';

import { api } from '@/lib/api-client';
import type { PasswordReset, User, UserCreate, UserUpdate } from '@/types/api';

function useInvalidateUsers() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ['users'] });
}

export function useCreateUser() {
  const invalidate = useInvalidateUsers();
  return useMutation({
    mutationFn: (user: UserCreate) => api.post<User>('/api/users/', user),
    onSuccess: invalidate,
  });
}

export function useUpdateUser() {
  const invalidate = useInvalidateUsers();
  return useMutation({
    mutationFn: ({ id, ...changes }: UserUpdate & { id: number }) => api.patch<User>(`/api/users/${id}/`, changes),
    onSuccess: invalidate,
  });
}

export function useResetPassword() {
  return useMutation({
    mutationFn: ({ id, password }: PasswordReset & { id: number }) =>
      api.post<void>(`/api/users/${id}/password/`, { password }),
  });
}
