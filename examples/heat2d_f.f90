! heat2d_f: examples/heat2d.c in Fortran - the same 2-D heat diffusion, with
! checkpoints staged in dramkv through the Fortran module (use dramkv).
!
! The same grid, stencil and expression order as heat2d.c, so for the same
! --nx --ny --steps both write the same grid, bit for bit (--out FILE: raw
! doubles, row after row), for any number of ranks and across restarts.
! Rows are split across the MPI ranks; each step exchanges one halo row with
! each neighbour.
!
! A checkpoint of step S is one key per grid row, "heat2d_f/ck/<S>/<row>",
! then (after a fence) "heat2d_f/latest" = [magic, S, nx, ny]; the previous
! checkpoint's rows are deleted after that. A restart with any number of
! ranks reads each of its rows by key, from DRAM or, in a new job, from the
! drain it loads first. Every --drain-every M checkpoints the holders drain
! to --drain-dir in the background; --kill-after STEP simulates a crash,
! --lose-at STEP wipes the grid and resumes from DRAM in the same job.
!
!   mpirun -np 4 heat2d_f --steps 500 --ckpt-every 50 --drain-every 2 \
!       --drain-dir ck --kill-after 250
!   mpirun -np 2 heat2d_f --steps 500 --ckpt-every 50 --drain-every 2 \
!       --drain-dir ck --restart --out grid.raw
!
! Every rank computes (dedicated holders are not supported here).
program heat2d_f
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: output_unit, error_unit
  use mpi_f08
  use dramkv
  implicit none

  interface
     function c_raise(sig) bind(C, name="raise") result(rc)
       import :: c_int
       integer(c_int), value :: sig
       integer(c_int) :: rc
     end function c_raise
  end interface

  real(c_double), parameter :: alpha = 0.2_c_double  ! diffusion number
  real(c_double), parameter :: hot_edge = 100.0_c_double, hot_cell = 50.0_c_double
  integer(c_int64_t), parameter :: latest_magic = 4684015766240323656_c_int64_t
  character(len=*), parameter :: latest_key = "heat2d_f/latest"

  ! options
  integer :: nx = 256, ny = 256, steps = 100, ckpt_every = 0
  integer :: drain_every = 0, kill_after = -1, lose_at = -1
  logical :: restart = .false., quiet = .false.
  character(len=4096) :: drain_dir = '', out = ''

  type(dkv_ctx) :: ctx
  ! grid(:, li, k): local row li (0 and nrows+1 are halos) of state k
  real(c_double), allocatable :: grid(:, :, :)
  integer :: rank, nranks, first, nrows, cur, ierr, step, prev_step
  logical :: drain_active
  double precision :: t0

  call parse_options()
  call MPI_Init(ierr)
  call dkv_init(ctx, ierr)
  if (ierr /= DKV_OK) call die("dkv_init", ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, nranks)
  if (ny < nranks) then
     write (error_unit, '(a,i0,a,i0,a)') "heat2d_f: --ny ", ny, &
          " is less than ", nranks, " ranks"
     call MPI_Abort(MPI_COMM_WORLD, 1)
  end if
  call rows_of(rank, first, nrows)
  allocate (grid(0:nx-1, 0:nrows+1, 0:1))
  grid = 0
  cur = 0
  prev_step = -1
  drain_active = .false.
  t0 = MPI_Wtime()
  if (rank == 0 .and. .not. quiet) then
     write (output_unit, '(a,i0,a,i0,a,i0,a,i0,a,i0,a,i0,a,i0,a)') &
          "heat2d_f: ", nx, " x ", ny, " grid on ", nranks, " ranks (", &
          dkv_num_holders(ctx), " holders), steps ", steps, &
          ", checkpoint every ", ckpt_every, ", drain every ", drain_every, &
          " checkpoints"
  end if
  step = 0
  if (restart) then
     call restore(step)
  else
     call fill_initial()
  end if
  call run(step)
  if (drain_active) call drain_wait()
  if (len_trim(out) > 0) call write_grid()
  if (rank == 0) then
     write (output_unit, '(a,i0,a,f0.3,a)') "heat2d_f: done: step ", &
          max(steps, step), " in ", MPI_Wtime() - t0, " s"
  end if
  call dkv_finalize(ctx, ierr)
  if (ierr /= DKV_OK) call die("dkv_finalize", ierr)
  call MPI_Finalize(ierr)

contains

  subroutine usage(unit)
    integer, intent(in) :: unit
    write (unit, '(a)') &
         "usage: heat2d_f [--nx N] [--ny N] [--steps N] [--ckpt-every K]", &
         "                [--drain-every M --drain-dir DIR] [--restart]", &
         "                [--lose-at STEP] [--kill-after STEP] [--out FILE]", &
         "                [--quiet] [--help]", &
         "2-D heat diffusion (examples/heat2d.c in Fortran) with checkpoints", &
         "staged in dramkv every K steps, drained to DIR every M checkpoints;", &
         "--restart resumes from DRAM or from the drain in DIR. Run it under", &
         "mpirun or srun --mpi=pmix."
  end subroutine usage

  subroutine bad_option(text)
    character(len=*), intent(in) :: text
    write (error_unit, '(a)') "heat2d_f: " // text
    call usage(error_unit)
    stop 2
  end subroutine bad_option

  ! Reads the options before MPI starts (--help needs no launcher).
  subroutine parse_options()
    character(len=4096) :: arg, val
    integer :: i, n, st
    i = 1
    n = command_argument_count()
    do while (i <= n)
       call get_command_argument(i, arg)
       select case (trim(arg))
       case ("--help", "-h")
          call usage(output_unit)
          stop
       case ("--restart")
          restart = .true.
       case ("--quiet")
          quiet = .true.
       case ("--nx", "--ny", "--steps", "--ckpt-every", "--drain-every", &
            "--kill-after", "--lose-at", "--drain-dir", "--out")
          if (i == n) call bad_option(trim(arg) // " needs a value")
          i = i + 1
          call get_command_argument(i, val)
          st = 0
          select case (trim(arg))
          case ("--nx")
             read (val, *, iostat=st) nx
             if (nx < 3) st = 1
          case ("--ny")
             read (val, *, iostat=st) ny
             if (ny < 3) st = 1
          case ("--steps")
             read (val, *, iostat=st) steps
          case ("--ckpt-every")
             read (val, *, iostat=st) ckpt_every
          case ("--drain-every")
             read (val, *, iostat=st) drain_every
          case ("--kill-after")
             read (val, *, iostat=st) kill_after
          case ("--lose-at")
             read (val, *, iostat=st) lose_at
          case ("--drain-dir")
             drain_dir = val
          case ("--out")
             out = val
          end select
          if (st /= 0) call bad_option(trim(arg) // " " // trim(val) // &
               ": not a valid number")
       case default
          call bad_option("unknown argument " // trim(arg))
       end select
       i = i + 1
    end do
    if (drain_every > 0 .and. (len_trim(drain_dir) == 0 .or. &
         ckpt_every == 0)) then
       call bad_option("--drain-every needs --drain-dir and --ckpt-every")
    end if
  end subroutine parse_options

  subroutine die(what, status)
    character(len=*), intent(in) :: what
    integer, intent(in) :: status
    character(len=:), allocatable :: detail
    detail = dkv_error_detail(ctx)
    if (len(detail) > 0) detail = " (" // detail // ")"
    write (error_unit, '(a,i0,a)') "heat2d_f: rank ", rank, ": " // what // &
         ": " // dkv_strerror(status) // detail
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine die

  subroutine rows_of(r, first_r, nrows_r)
    integer, intent(in) :: r
    integer, intent(out) :: first_r, nrows_r
    integer :: base, rem
    base = ny / nranks
    rem = mod(ny, nranks)
    first_r = r * base + min(r, rem)
    nrows_r = base
    if (r < rem) nrows_r = base + 1
  end subroutine rows_of

  ! ---- grid -------------------------------------------------------------

  real(c_double) function initial_value(gi, j)
    integer, intent(in) :: gi, j
    initial_value = 0
    if (gi == 0) then
       initial_value = hot_edge
    else if (gi == ny - 1 .or. j == 0 .or. j == nx - 1) then
       initial_value = 0
    else if (gi >= 3 * (ny / 8) .and. gi < 5 * (ny / 8) .and. &
         j >= 3 * (nx / 8) .and. j < 5 * (nx / 8)) then
       initial_value = hot_cell
    end if
  end function initial_value

  subroutine fill_initial()
    integer :: li, j
    do li = 1, nrows
       do j = 0, nx - 1
          grid(j, li, cur) = initial_value(first + li - 1, j)
       end do
    end do
  end subroutine fill_initial

  subroutine halo_exchange()
    integer :: up, down
    up = MPI_PROC_NULL
    down = MPI_PROC_NULL
    if (rank > 0) up = rank - 1
    if (rank < nranks - 1) down = rank + 1
    call MPI_Sendrecv(grid(:, 1, cur), nx, MPI_DOUBLE_PRECISION, up, 0, &
         grid(:, nrows + 1, cur), nx, MPI_DOUBLE_PRECISION, down, 0, &
         MPI_COMM_WORLD, MPI_STATUS_IGNORE)
    call MPI_Sendrecv(grid(:, nrows, cur), nx, MPI_DOUBLE_PRECISION, down, &
         1, grid(:, 0, cur), nx, MPI_DOUBLE_PRECISION, up, 1, &
         MPI_COMM_WORLD, MPI_STATUS_IGNORE)
  end subroutine halo_exchange

  ! One step; the expression and its order are heat2d.c's update_row.
  subroutine grid_step()
    integer :: li, gi, j, nw
    nw = 1 - cur
    call halo_exchange()
    do li = 1, nrows
       gi = first + li - 1
       if (gi == 0 .or. gi == ny - 1) then
          grid(:, li, nw) = grid(:, li, cur)
          cycle
       end if
       grid(0, li, nw) = grid(0, li, cur)
       grid(nx - 1, li, nw) = grid(nx - 1, li, cur)
       do j = 1, nx - 2
          grid(j, li, nw) = grid(j, li, cur) + alpha * &
               (((grid(j, li - 1, cur) + grid(j, li + 1, cur)) + &
               (grid(j - 1, li, cur) + grid(j + 1, li, cur))) - &
               4.0_c_double * grid(j, li, cur))
       end do
    end do
    cur = nw
  end subroutine grid_step

  ! Rank 0 gathers the rows and writes them as raw doubles, row by row.
  subroutine write_grid()
    real(c_double), allocatable :: full(:, :)
    integer, allocatable :: counts(:), displs(:)
    integer :: r, f, n, unit, st
    allocate (counts(0:nranks-1), displs(0:nranks-1))
    do r = 0, nranks - 1
       call rows_of(r, f, n)
       counts(r) = n * nx
       displs(r) = f * nx
    end do
    if (rank == 0) then
       allocate (full(0:nx-1, 0:ny-1))
    else
       allocate (full(1, 1))
    end if
    call MPI_Gatherv(grid(:, 1:nrows, cur), nrows * nx, &
         MPI_DOUBLE_PRECISION, full, counts, displs, MPI_DOUBLE_PRECISION, &
         0, MPI_COMM_WORLD)
    if (rank == 0) then
       open (newunit=unit, file=trim(out), access='stream', &
            form='unformatted', status='replace', iostat=st)
       if (st == 0) write (unit, iostat=st) full
       if (st == 0) close (unit, iostat=st)
       if (st /= 0) then
          write (error_unit, '(a)') "heat2d_f: cannot write " // trim(out)
          call MPI_Abort(MPI_COMM_WORLD, 1)
       end if
    end if
  end subroutine write_grid

  ! ---- run --------------------------------------------------------------

  subroutine run(from)
    integer, intent(in) :: from
    integer :: s
    logical :: lost
    lost = .false.
    s = from + 1
    do while (s <= steps)
       if (s - 1 == lose_at .and. .not. lost) then
          lost = .true.
          grid = ieee_nan()
          if (rank == 0) write (output_unit, '(a,i0,a)') "heat2d_f: step ", &
               s - 1, ": --lose-at: grid lost, resuming from DRAM"
          call restore(s)
          s = s + 1
       end if
       call grid_step()
       if (ckpt_every > 0) then
          if (mod(s, ckpt_every) == 0) call checkpoint(s)
       end if
       if (s == kill_after) call crash(s)
       s = s + 1
    end do
  end subroutine run

  real(c_double) function ieee_nan()
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    ieee_nan = ieee_value(0.0_c_double, ieee_quiet_nan)
  end function ieee_nan

  subroutine crash(s)
    integer, intent(in) :: s
    integer :: rc
    call MPI_Barrier(MPI_COMM_WORLD)
    if (rank == 0) write (output_unit, '(a,i0,a)') "heat2d_f: step ", s, &
         ": --kill-after: raising SIGKILL"
    flush (output_unit)
    rc = c_raise(9_c_int)
  end subroutine crash

  ! ---- checkpoints ------------------------------------------------------

  function row_key(s, gi) result(key)
    integer, intent(in) :: s, gi
    character(len=64) :: key
    write (key, '(a,i0,a,i0)') "heat2d_f/ck/", s, "/", gi
  end function row_key

  ! Collective: stage this step's rows, then the latest record, then
  ! delete the previous checkpoint; start a drain when one is due.
  subroutine checkpoint(s)
    integer, intent(in) :: s
    integer(c_int64_t) :: rec(4)
    integer :: li
    double precision :: t
    t = MPI_Wtime()
    do li = 1, nrows
       call dkv_put(ctx, row_key(s, first + li - 1), grid(:, li, cur), ierr)
       if (ierr /= DKV_OK) call die("dkv_put", ierr)
    end do
    call dkv_fence(ctx, ierr)
    if (ierr /= DKV_OK) call die("dkv_fence after the rows", ierr)
    t = MPI_Wtime() - t
    if (rank == 0) then
       rec = [latest_magic, int(s, c_int64_t), int(nx, c_int64_t), &
            int(ny, c_int64_t)]
       call dkv_put(ctx, latest_key, rec, ierr)
       if (ierr /= DKV_OK) call die("dkv_put " // latest_key, ierr)
    end if
    call dkv_fence(ctx, ierr)
    if (ierr /= DKV_OK) call die("dkv_fence after " // latest_key, ierr)
    if (prev_step >= 0) then
       do li = 1, nrows
          call dkv_delete(ctx, row_key(prev_step, first + li - 1), ierr)
          if (ierr /= DKV_OK) call die("dkv_delete", ierr)
       end do
       call dkv_quiet(ctx, ierr)
       if (ierr /= DKV_OK) call die("dkv_quiet after the deletes", ierr)
    end if
    prev_step = s
    if (rank == 0 .and. .not. quiet) then
       write (output_unit, '(a,i0,a,f0.2,a,f0.3,a)') "heat2d_f: step ", s, &
            ": checkpoint ", 8.0d0 * nx * ny / 1048576.0d0, &
            " MiB staged in ", t * 1e3, " ms (put+fence)"
    end if
    if (drain_every > 0) then
       if (mod(s / ckpt_every, drain_every) == 0) then
          if (drain_active) call drain_wait()
          call dkv_drain_start(ctx, drain_dir, ierr)
          if (ierr /= DKV_OK) call die("dkv_drain_start", ierr)
          drain_active = .true.
          if (rank == 0 .and. .not. quiet) write (output_unit, '(a,i0,a)') &
               "heat2d_f: step ", s, ": drain to " // trim(drain_dir) // &
               " started"
       end if
    end if
  end subroutine checkpoint

  subroutine drain_wait()
    call dkv_drain_wait(ctx, ierr)
    if (ierr /= DKV_OK) call die("dkv_drain_wait", ierr)
    drain_active = .false.
  end subroutine drain_wait

  ! Collective: the latest checkpoint from DRAM, else from the drain.
  subroutine restore(s)
    integer, intent(out) :: s
    integer(c_int64_t) :: rec(4)
    integer(c_size_t) :: nbytes
    logical :: found, all_found
    integer :: li
    call dkv_get(ctx, latest_key, rec, nbytes, ierr)
    if (ierr /= DKV_OK .and. ierr /= DKV_ERR_NOT_FOUND) &
         call die("dkv_get " // latest_key, ierr)
    found = ierr == DKV_OK
    call MPI_Allreduce(found, all_found, 1, MPI_LOGICAL, MPI_LAND, &
         MPI_COMM_WORLD)
    if (.not. all_found) then
       if (len_trim(drain_dir) == 0) then
          write (error_unit, '(a)') "heat2d_f: --restart: no checkpoint " // &
               "in DRAM and no --drain-dir to load"
          call MPI_Abort(MPI_COMM_WORLD, 1)
       end if
       call dkv_load(ctx, drain_dir, ierr)
       if (ierr /= DKV_OK) call die("dkv_load " // trim(drain_dir), ierr)
       call dkv_get(ctx, latest_key, rec, nbytes, ierr)
       if (ierr /= DKV_OK) call die("dkv_get " // latest_key, ierr)
    end if
    if (nbytes /= size(rec) * storage_size(rec) / 8 .or. rec(1) /= latest_magic .or. &
         rec(3) /= nx .or. rec(4) /= ny) then
       write (error_unit, '(a)') "heat2d_f: " // latest_key // &
            " does not fit this grid"
       call MPI_Abort(MPI_COMM_WORLD, 1)
    end if
    s = int(rec(2))
    do li = 1, nrows
       call dkv_get(ctx, row_key(s, first + li - 1), grid(:, li, cur), &
            nbytes, ierr)
       if (ierr /= DKV_OK) call die("dkv_get " // row_key(s, first + li - 1), &
            ierr)
       if (nbytes /= 8 * nx) call die("a row of the wrong size", DKV_ERR_CORRUPT)
    end do
    prev_step = s
    if (rank == 0 .and. .not. quiet) write (output_unit, '(a,i0,a)') &
         "heat2d_f: restart from step ", s, ": every row read by key"
  end subroutine restore

end program heat2d_f
