! dramkv: the Fortran 2018 interface to dramkv (include/dramkv.h).
!
! Every call mirrors the C call of the same name; ierr receives the C
! status (DKV_OK = 0, or a negative DKV_ERR_* parameter; their meaning is
! documented in dramkv.h). Keys and directories are Fortran strings:
! trailing blanks are trimmed and the NUL is added here. Buffers are
! assumed-type, assumed-rank (TS 29113): any contiguous array or scalar of
! any type, passed by address without a copy; its size in bytes is its
! storage size. A non-contiguous array section gives DKV_ERR_INVALID.
! dkv_put, dkv_get, dkv_delete, dkv_drain_start and dkv_load are bind(C)
! interfaces to dramkv_f.c, so the calling compiler hands over its own C
! descriptors of the key and the buffer.
!
! Thread: the API is funneled, as in C - one thread at a time calls dramkv,
! the one that called dkv_init. The C half (dramkv_f.c) turns strings and
! array descriptors into C arguments.
module dramkv
  use, intrinsic :: iso_c_binding
  implicit none
  private

  include 'dramkv_consts.inc'

  !> One per process, from dkv_init to dkv_finalize.
  type, bind(C), public :: dkv_ctx
     private
     type(c_ptr) :: p = c_null_ptr
  end type dkv_ctx

  public :: dkv_init, dkv_finalize, dkv_rank, dkv_size, dkv_is_holder, &
       dkv_num_holders, dkv_is_dedicated, dkv_put, dkv_get, dkv_delete, &
       dkv_quiet, dkv_fence, dkv_drain_start, dkv_drain_test, &
       dkv_drain_wait, dkv_load, dkv_serve, dkv_list, dkv_strerror, &
       dkv_error_detail, dkv_version

  ! dkv_drain_progress_t, for dkv_drain_test and dkv_drain_wait.
  type, bind(C) :: dkv_drain_progress_c
     integer(c_int64_t) :: bytes_written, bytes_total, keys_written, keys_total
     integer(c_int) :: done
  end type dkv_drain_progress_c

  abstract interface
     function c_ctx_call(ctx) bind(C) result(s)
       import :: c_ptr, c_int
       type(c_ptr), value :: ctx
       integer(c_int) :: s
     end function c_ctx_call
     function c_ctx_progress(ctx, progress) bind(C) result(s)
       import :: c_ptr, c_int, dkv_drain_progress_c
       type(c_ptr), value :: ctx
       type(dkv_drain_progress_c), intent(out) :: progress
       integer(c_int) :: s
     end function c_ctx_progress
     !> dkv_delete(ctx, key, ierr), dkv_drain_start(ctx, dir, ierr),
     !> dkv_load(ctx, dir, ierr): as the C calls.
     subroutine named_call(ctx, name, ierr) bind(C)
       import :: dkv_ctx, c_char, c_int
       type(dkv_ctx), intent(in) :: ctx
       character(kind=c_char, len=*), intent(in) :: name
       integer(c_int), intent(out) :: ierr
     end subroutine named_call
  end interface

  interface
     !> Store buf (its storage size in bytes) under key (C dkv_put).
     subroutine dkv_put(ctx, key, buf, ierr) bind(C, name="dkv_f_put")
       import :: dkv_ctx, c_char, c_int
       type(dkv_ctx), intent(in) :: ctx
       character(kind=c_char, len=*), intent(in) :: key
       type(*), dimension(..), intent(in) :: buf
       integer(c_int), intent(out) :: ierr
     end subroutine dkv_put
     !> Read key into buf (C dkv_get); nbytes receives the stored size on
     !> DKV_OK and on DKV_ERR_TRUNCATED (buf too small: nothing copied).
     subroutine dkv_get(ctx, key, buf, nbytes, ierr) bind(C, name="dkv_f_get")
       import :: dkv_ctx, c_char, c_int, c_size_t
       type(dkv_ctx), intent(in) :: ctx
       character(kind=c_char, len=*), intent(in) :: key
       type(*), dimension(..), intent(inout) :: buf
       integer(c_size_t), intent(out) :: nbytes
       integer(c_int), intent(out) :: ierr
     end subroutine dkv_get
  end interface

  interface
     function f_init(holders, timeout_ms, hold_bytes, dedicated, replicas, &
          ctx_p) bind(C, name="dkv_f_init") result(s)
       import :: c_ptr, c_char, c_int, c_long_long
       character(kind=c_char, len=*), intent(in) :: holders
       integer(c_int), value :: timeout_ms, dedicated, replicas
       integer(c_long_long), value :: hold_bytes
       type(c_ptr), intent(out) :: ctx_p
       integer(c_int) :: s
     end function f_init
     subroutine f_list(ctx, prefix, keys, sizes, count, longest, ierr) &
          bind(C, name="dkv_f_list")
       import :: dkv_ctx, c_char, c_int, c_ptr, c_size_t
       type(dkv_ctx), intent(in) :: ctx
       character(kind=c_char, len=*), intent(in) :: prefix
       type(c_ptr), intent(out) :: keys, sizes
       integer(c_size_t), intent(out) :: count, longest
       integer(c_int), intent(out) :: ierr
     end subroutine f_list
     subroutine f_list_free(keys, sizes) bind(C, name="dkv_f_list_free")
       import :: c_ptr
       type(c_ptr), value :: keys, sizes
     end subroutine f_list_free
     function c_strlen(s) bind(C, name="strlen") result(n)
       import :: c_ptr, c_size_t
       type(c_ptr), value :: s
       integer(c_size_t) :: n
     end function c_strlen
     function c_strerror(status) bind(C, name="dkv_strerror") result(s)
       import :: c_ptr, c_int
       integer(c_int), value :: status
       type(c_ptr) :: s
     end function c_strerror
     function c_error_detail(ctx) bind(C, name="dkv_error_detail") result(s)
       import :: c_ptr
       type(c_ptr), value :: ctx
       type(c_ptr) :: s
     end function c_error_detail
     function c_version() bind(C, name="dkv_version") result(v)
       import :: c_int
       integer(c_int) :: v
     end function c_version
  end interface

  ! The C calls that take only the context (and a progress record), and
  ! the C halves that take a name.
  procedure(c_ctx_call), bind(C, name="dkv_finalize") :: c_finalize
  procedure(c_ctx_call), bind(C, name="dkv_rank") :: c_rank
  procedure(c_ctx_call), bind(C, name="dkv_size") :: c_size
  procedure(c_ctx_call), bind(C, name="dkv_is_holder") :: c_is_holder
  procedure(c_ctx_call), bind(C, name="dkv_num_holders") :: c_num_holders
  procedure(c_ctx_call), bind(C, name="dkv_is_dedicated") :: c_is_dedicated
  procedure(c_ctx_call), bind(C, name="dkv_quiet") :: c_quiet
  procedure(c_ctx_call), bind(C, name="dkv_fence") :: c_fence
  procedure(c_ctx_call), bind(C, name="dkv_serve") :: c_serve
  procedure(c_ctx_progress), bind(C, name="dkv_drain_test") :: c_drain_test
  procedure(c_ctx_progress), bind(C, name="dkv_drain_wait") :: c_drain_wait
  procedure(named_call), bind(C, name="dkv_f_delete") :: dkv_delete
  procedure(named_call), bind(C, name="dkv_f_drain_start") :: dkv_drain_start
  procedure(named_call), bind(C, name="dkv_f_load") :: dkv_load

contains

  !> Collective start (C dkv_init). The optional arguments set the fields
  !> of dkv_init_params_t; those not given come from the DKV_* environment.
  subroutine dkv_init(ctx, ierr, holders, timeout_ms, hold_bytes, &
       dedicated, replicas)
    type(dkv_ctx), intent(out) :: ctx
    integer, intent(out) :: ierr
    character(len=*), intent(in), optional :: holders
    integer, intent(in), optional :: timeout_ms, replicas
    integer(c_size_t), intent(in), optional :: hold_bytes
    logical, intent(in), optional :: dedicated
    integer(c_int) :: tmo, ded, rep
    integer(c_long_long) :: hb
    type(c_ptr) :: p

    tmo = -1
    ded = -1
    rep = -1
    hb = -1
    if (present(timeout_ms)) tmo = int(timeout_ms, c_int)
    if (present(replicas)) rep = int(replicas, c_int)
    if (present(hold_bytes)) hb = int(hold_bytes, c_long_long)
    if (present(dedicated)) ded = merge(1_c_int, 0_c_int, dedicated)
    if (present(holders)) then
       ierr = int(f_init(holders, tmo, hb, ded, rep, p))
    else
       ierr = int(f_init('', tmo, hb, ded, rep, p))
    end if
    if (ierr == DKV_OK) ctx%p = p
  end subroutine dkv_init

  !> Collective stop (C dkv_finalize); ctx is reset in every case.
  subroutine dkv_finalize(ctx, ierr)
    type(dkv_ctx), intent(inout) :: ctx
    integer, intent(out) :: ierr
    ierr = int(c_finalize(ctx%p))
    ctx%p = c_null_ptr
  end subroutine dkv_finalize

  integer function dkv_rank(ctx)
    type(dkv_ctx), intent(in) :: ctx
    dkv_rank = int(c_rank(ctx%p))
  end function dkv_rank

  integer function dkv_size(ctx)
    type(dkv_ctx), intent(in) :: ctx
    dkv_size = int(c_size(ctx%p))
  end function dkv_size

  logical function dkv_is_holder(ctx)
    type(dkv_ctx), intent(in) :: ctx
    dkv_is_holder = c_is_holder(ctx%p) /= 0
  end function dkv_is_holder

  integer function dkv_num_holders(ctx)
    type(dkv_ctx), intent(in) :: ctx
    dkv_num_holders = int(c_num_holders(ctx%p))
  end function dkv_num_holders

  logical function dkv_is_dedicated(ctx)
    type(dkv_ctx), intent(in) :: ctx
    dkv_is_dedicated = c_is_dedicated(ctx%p) /= 0
  end function dkv_is_dedicated




  subroutine dkv_quiet(ctx, ierr)
    type(dkv_ctx), intent(in) :: ctx
    integer, intent(out) :: ierr
    ierr = int(c_quiet(ctx%p))
  end subroutine dkv_quiet

  subroutine dkv_fence(ctx, ierr)
    type(dkv_ctx), intent(in) :: ctx
    integer, intent(out) :: ierr
    ierr = int(c_fence(ctx%p))
  end subroutine dkv_fence


  !> Look at the running drain (C dkv_drain_test): done is .true. once its
  !> manifest is durable (with ierr = DKV_OK).
  subroutine dkv_drain_test(ctx, done, ierr)
    type(dkv_ctx), intent(in) :: ctx
    logical, intent(out) :: done
    integer, intent(out) :: ierr
    type(dkv_drain_progress_c) :: p
    ierr = int(c_drain_test(ctx%p, p))
    done = (ierr == DKV_OK) .and. (p%done /= 0)
  end subroutine dkv_drain_test

  subroutine dkv_drain_wait(ctx, ierr)
    type(dkv_ctx), intent(in) :: ctx
    integer, intent(out) :: ierr
    type(dkv_drain_progress_c) :: p
    ierr = int(c_drain_wait(ctx%p, p))
  end subroutine dkv_drain_wait


  subroutine dkv_serve(ctx, ierr)
    type(dkv_ctx), intent(in) :: ctx
    integer, intent(out) :: ierr
    ierr = int(c_serve(ctx%p))
  end subroutine dkv_serve

  !> Every stored key that starts with prefix (blank: every key), across
  !> all holders, each once, in key order (C dkv_list): keys(i), blank-
  !> padded, holds sizes(i) bytes. Declare keys with a length of at least
  !> the longest key (DKV_KEY_MAX always fits); a longer key is cut and
  !> ierr = DKV_ERR_TRUNCATED.
  subroutine dkv_list(ctx, prefix, keys, sizes, ierr)
    type(dkv_ctx), intent(in) :: ctx
    character(len=*), intent(in) :: prefix
    character(len=*), allocatable, intent(out) :: keys(:)
    integer(c_size_t), allocatable, intent(out) :: sizes(:)
    integer, intent(out) :: ierr
    type(c_ptr) :: ckeys, csizes
    integer(c_size_t) :: count, longest, i, at, n
    integer(c_size_t), pointer :: s(:)
    character(kind=c_char), pointer :: chars(:)
    integer(c_int) :: status

    call f_list(ctx, prefix, ckeys, csizes, count, longest, status)
    ierr = int(status)
    allocate (keys(count), sizes(count))
    if (count > 0) then
       call c_f_pointer(csizes, s, [count])
       sizes = s
       call c_f_pointer(ckeys, chars, [huge(0_c_size_t)])
       at = 1
       do i = 1, count
          n = c_strlen(c_loc(chars(at)))
          keys(i) = transfer(chars(at:at + n - 1), repeat(' ', int(n)))
          at = at + n + 1
       end do
       if (longest > len(keys)) ierr = DKV_ERR_TRUNCATED
    end if
    call f_list_free(ckeys, csizes)
  end subroutine dkv_list

  !> The text of a status (C dkv_strerror).
  function dkv_strerror(status) result(text)
    integer, intent(in) :: status
    character(len=:), allocatable :: text
    text = c_string(c_strerror(int(status, c_int)))
  end function dkv_strerror

  !> Why the last failed drain or load call failed, or "".
  function dkv_error_detail(ctx) result(text)
    type(dkv_ctx), intent(in) :: ctx
    character(len=:), allocatable :: text
    text = c_string(c_error_detail(ctx%p))
  end function dkv_error_detail

  !> major * 10000 + minor * 100 + patch of the library in use.
  integer function dkv_version()
    dkv_version = int(c_version())
  end function dkv_version

  ! A copy of the NUL-terminated C string at s.
  function c_string(s) result(text)
    type(c_ptr), intent(in) :: s
    character(len=:), allocatable :: text
    character(kind=c_char), pointer :: chars(:)
    integer(c_size_t) :: i, n
    n = c_strlen(s)
    call c_f_pointer(s, chars, [n])
    allocate(character(len=n) :: text)
    do i = 1, n
       text(i:i) = chars(i)
    end do
  end function c_string

end module dramkv
