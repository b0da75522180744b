namespace MmSim.Kernel;

/// <summary>Linux errno numbers (include/uapi/asm-generic/errno-base.h, errno.h, include/linux/errno.h).</summary>
public enum Errno
{
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ENOEXEC = 8,
    EBADF = 9,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    ENOTBLK = 15,
    EBUSY = 16,
    EEXIST = 17,
    EXDEV = 18,
    ENODEV = 19,
    ENOTDIR = 20,
    EISDIR = 21,
    EINVAL = 22,
    ENFILE = 23,
    EMFILE = 24,
    ENOTTY = 25,
    ETXTBSY = 26,
    EFBIG = 27,
    ENOSPC = 28,
    ESPIPE = 29,
    EROFS = 30,
    EMLINK = 31,
    EPIPE = 32,
    EDOM = 33,
    ERANGE = 34,
    EDEADLK = 35,
    ENAMETOOLONG = 36,
    ENOLCK = 37,
    ENOSYS = 38,
    ENOTEMPTY = 39,
    ELOOP = 40,
    EOVERFLOW = 75,
    EOPNOTSUPP = 95,
    ETIMEDOUT = 110,
    EALREADY = 114,

    /// <summary>Kernel-internal "operation not supported" (include/linux/errno.h); user space sees 524.</summary>
    ENOTSUPP = 524,
}

/// <summary>Helpers for the kernel's "negative errno in a long" convention.</summary>
public static class ErrnoExtensions
{
    /// <summary>The value a syscall returns for this error: -errno.</summary>
    public static long Neg(this Errno e) => -(long)e;

    /// <summary>IS_ERR_VALUE: true when <paramref name="ret"/> is a negative errno.</summary>
    public static bool IsErr(long ret) => ret < 0 && ret >= -4095;

    /// <summary>The errno carried by a negative return value.</summary>
    public static Errno ToErrno(long ret) => (Errno)(int)-ret;

    /// <summary>Parse an errno name such as "EINVAL".</summary>
    public static bool TryParse(string name, out Errno errno) =>
        Enum.TryParse(name, ignoreCase: false, out errno) && Enum.IsDefined(errno) && name.StartsWith('E');
}
