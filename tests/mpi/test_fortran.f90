! test_fortran: the Fortran module (use dramkv) on 2 or more ranks. Rank 0
! writes values of several types and shapes, every rank reads them back
! after a fence; then the error paths: a missing key, a buffer too small,
! a non-contiguous section, an empty key, the status texts; a listing. Prints
! "fortran test passed" on rank 0 when every check held.
program test_fortran
  use, intrinsic :: iso_c_binding
  use dramkv
  implicit none
  type(dkv_ctx) :: ctx
  integer :: ierr, i, failures, scalar
  integer(c_size_t) :: n
  real(c_double) :: a(5, 4), b(5, 4), small(2)
  integer(c_int32_t) :: big(100000), back(100000)
  character(len=16) :: text
  character(len=DKV_KEY_MAX + 1) :: long_key

  failures = 0
  call dkv_init(ctx, ierr, timeout_ms=20000)
  call check(ierr == DKV_OK, "dkv_init")
  call check(dkv_size(ctx) >= 2, "at least 2 ranks")
  call check(dkv_version() == DKV_VERSION_MAJOR * 10000 + &
       DKV_VERSION_MINOR * 100 + DKV_VERSION_PATCH, "dkv_version")
  a = reshape([(real(i, c_double) / 3, i = 1, 20)], [5, 4])
  big = [(i * 7, i = 1, size(big))]
  if (dkv_rank(ctx) == 0) then
     call dkv_put(ctx, "f/a", a, ierr)
     call check(ierr == DKV_OK, "put a 2-D array")
     call dkv_put(ctx, "f/scalar   ", 42, ierr)  ! trailing blanks trimmed
     call check(ierr == DKV_OK, "put a scalar")
     call dkv_put(ctx, "f/text", "hello, dramkv", ierr)  ! 13 bytes
     call check(ierr == DKV_OK, "put a string")
     call dkv_put(ctx, "f/big", big, ierr)  ! 400000 bytes: zero-copy path
     call check(ierr == DKV_OK, "put 400000 bytes")
     call dkv_put(ctx, "f/gone", 1, ierr)
     call dkv_delete(ctx, "f/gone", ierr)
     call check(ierr == DKV_OK, "delete")
     call dkv_quiet(ctx, ierr)
     call check(ierr == DKV_OK, "quiet")
  end if
  call dkv_fence(ctx, ierr)
  call check(ierr == DKV_OK, "fence")

  call dkv_get(ctx, "f/a", b, n, ierr)
  call check(ierr == DKV_OK .and. n == 160 .and. &
       all(transfer(a, [0_c_int64_t]) == transfer(b, [0_c_int64_t])), &
       "get a 2-D array, bit for bit")
  call dkv_get(ctx, "f/scalar", scalar, n, ierr)
  call check(ierr == DKV_OK .and. n == 4 .and. scalar == 42, "get a scalar")
  text = ''
  call dkv_get(ctx, "f/text", text(1:13), n, ierr)
  call check(ierr == DKV_OK .and. n == 13 .and. text == "hello, dramkv", &
       "get a string")
  call dkv_get(ctx, "f/big", back, n, ierr)
  call check(ierr == DKV_OK .and. n == 400000 .and. all(back == big), &
       "get 400000 bytes")
  call test_list()
  call dkv_get(ctx, "f/gone", scalar, n, ierr)
  call check(ierr == DKV_ERR_NOT_FOUND, "a deleted key is not found")
  call dkv_get(ctx, "f/a", small, n, ierr)
  call check(ierr == DKV_ERR_TRUNCATED .and. n == 160, &
       "a small buffer: DKV_ERR_TRUNCATED and the stored size")
  call dkv_get(ctx, "f/a", b(1, :), n, ierr)
  call check(ierr == DKV_ERR_INVALID, "a non-contiguous section is refused")
  call dkv_put(ctx, "   ", 1, ierr)
  call check(ierr == DKV_ERR_INVALID, "a blank key is refused")
  long_key = repeat("k", len(long_key))
  call dkv_put(ctx, long_key, 1, ierr)
  call check(ierr == DKV_ERR_INVALID, "a key over DKV_KEY_MAX is refused")
  call check(dkv_strerror(DKV_ERR_NOT_FOUND) == "key not found", "strerror")

  call dkv_fence(ctx, ierr)
  call check(ierr == DKV_OK, "last fence")
  call dkv_finalize(ctx, ierr)
  call check(ierr == DKV_OK, "finalize")
  call dkv_finalize(ctx, ierr)
  call check(ierr == DKV_OK, "finalize of a finalized context does nothing")
  if (failures /= 0) error stop 1
  print '(a)', "fortran test passed"

contains

  subroutine test_list()
    character(len=16), allocatable :: keys(:)
    character(len=4), allocatable :: short(:)
    integer(c_size_t), allocatable :: sizes(:)
    call dkv_list(ctx, "f/", keys, sizes, ierr)
    call check(ierr == DKV_OK .and. size(keys) == 4, "list f/: 4 keys")
    if (ierr == DKV_OK .and. size(keys) == 4) then
       call check(keys(1) == "f/a" .and. keys(2) == "f/big" .and. &
            keys(3) == "f/scalar" .and. keys(4) == "f/text" .and. &
            all(sizes == [160, 400000, 4, 13]), &
            "list: keys and sizes in key order")
    end if
    call dkv_list(ctx, "f/none/", keys, sizes, ierr)
    call check(ierr == DKV_OK .and. size(keys) == 0, "list of no key")
    call dkv_list(ctx, "f/", short, sizes, ierr)
    call check(ierr == DKV_ERR_TRUNCATED .and. short(3) == "f/sc", &
         "list into too short keys: DKV_ERR_TRUNCATED")
  end subroutine test_list

  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    if (.not. ok) then
       print '(a,i0,a)', "FAILED (ierr ", ierr, "): " // what
       failures = failures + 1
    end if
  end subroutine check

end program test_fortran
