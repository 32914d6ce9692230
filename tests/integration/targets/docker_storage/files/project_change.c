/* Tries, from inside a container, every call that changes an XFS project id or PROJINHERIT, then
 * writes past the sandbox's limit. Prints one "<call> <result>" line each: "ok", an errno name, or
 * for the write the bytes written and the errno that stopped it. Static and non-PIE, so the int 0x80
 * (32-bit compat) calls can pass a buffer below 4 GiB.
 * Usage: project_change <directory on XFS> <MiB to write> */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#define FILE_SETATTR 469 /* x86_64 and i386, Linux 6.17 */
#define COMPAT_IOCTL 54  /* i386 */

static struct fsxattr attr; /* in .bss: below 4 GiB in a static non-PIE binary */
static unsigned int flags32;

static const char *result(long rc) {
    static char buf[32];
    if (rc >= 0) return "ok";
    const char *name = strerrorname_np(errno);
    snprintf(buf, sizeof buf, "%s", name ? name : "errno?");
    return buf;
}

static long compat(long nr, long a, long b, long c) {
    long rc;
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    if (rc < 0) { errno = (int)-rc; return -1; }
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s DIR MIB\n", argv[0]); return 2; }
    const char *dir = argv[1];
    long mib = atol(argv[2]);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) { perror(dir); return 2; }
    int fd = openat(dfd, "own-file", O_RDWR | O_CREAT, 0644);
    if (fd < 0) { perror("own-file"); return 2; }

    if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) < 0) { perror("FS_IOC_FSGETXATTR"); return 2; }
    printf("project %u\n", attr.fsx_projid);
    attr.fsx_projid = 0;
    printf("fssetxattr %s\n", result(ioctl(fd, FS_IOC_FSSETXATTR, &attr)));
    printf("fssetxattr_high_bits %s\n",
           result(syscall(SYS_ioctl, fd, 0xffffffff00000000UL | FS_IOC_FSSETXATTR, &attr)));
    printf("fssetxattr_dir %s\n", result(ioctl(dfd, FS_IOC_FSSETXATTR, &attr)));
    printf("compat_fssetxattr %s\n", result(compat(COMPAT_IOCTL, fd, FS_IOC_FSSETXATTR, (long)&attr)));

    long flags = 0;
    if (ioctl(dfd, FS_IOC_GETFLAGS, &flags) < 0) { perror("FS_IOC_GETFLAGS"); return 2; }
    printf("projinherit %s\n", flags & FS_PROJINHERIT_FL ? "set" : "clear");
    flags &= ~(long)FS_PROJINHERIT_FL;
    printf("setflags %s\n", result(ioctl(dfd, FS_IOC_SETFLAGS, &flags)));
    printf("setflags_high_bits %s\n", result(syscall(SYS_ioctl, dfd, 0xffffffff00000000UL | FS_IOC_SETFLAGS, &flags)));
    flags32 = (unsigned int)flags;
    printf("compat_setflags32 %s\n", result(compat(COMPAT_IOCTL, dfd, FS_IOC32_SETFLAGS, (long)&flags32)));
    printf("file_setattr %s\n", result(syscall(FILE_SETATTR, dfd, "own-file", &attr, sizeof attr, 0)));

    int pipefd[2];
    int queued = -1;
    if (pipe(pipefd) < 0 || write(pipefd[1], "abc", 3) != 3) { perror("pipe"); return 2; }
    long rc = ioctl(pipefd[0], FIONREAD, &queued);
    printf("fionread %s %d\n", result(rc), queued);
    struct termios tio;
    printf("tcgets %s\n", result(ioctl(fd, TCGETS, &tio))); /* a file: ENOTTY from the kernel, not EPERM */

    if (ioctl(fd, FS_IOC_FSGETXATTR, &attr) < 0) { perror("FS_IOC_FSGETXATTR"); return 2; }
    printf("project_after %u\n", attr.fsx_projid);

    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    long written = 0;
    const char *why = "ok";
    for (long i = 0; i < mib; i++) {
        ssize_t n = write(fd, block, sizeof block);
        if (n < 0) { why = result(-1); break; }
        written += n;
        if (n < (ssize_t)sizeof block) { errno = ENOSPC; why = result(write(fd, block, sizeof block)); break; }
    }
    if (strcmp(why, "ok") == 0 && fsync(fd) < 0) why = result(-1);
    printf("write %ld %s\n", written, why);
    return 0;
}
