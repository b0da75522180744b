using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

public sealed class SmokeTests : VmFixture
{
    [Fact]
    public void AnonymousMmapReadWriteMunmap()
    {
        var a = MapAnon(4 * P);
        Assert.Equal(0x7ffff7ffb000UL, a);
        Assert.Equal(0UL, Read(a));
        Write(a + 8, 0x1122334455667788);
        Assert.Equal(0x1122334455667788UL, Read(a + 8));
        Assert.Equal(0x7ffff7ffb000UL + 4 * P, Vmas()[0].End);
        AssertInvariants();
        Assert.Equal(0, T.Munmap(a, 4 * P));
        Assert.Empty(Vmas());
        AssertFreePagesBack();
        AssertInvariants();
    }

    [Fact]
    public void ProcMapsFormat()
    {
        var a = MapAnon(2 * P);
        Assert.Equal($"{a:x}-{a + 2 * P:x} rw-p 00000000 00:00 0 \n", ProcMaps.Show(T));
    }
}
